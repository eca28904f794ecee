"""Labelling throughput: 16 requests in flight vs one at a time, against a local OpenAI-compatible
server that answers every request after 200 ms (the real openai client, the real store).

    python benchmarks/label.py [--snippets 64] [--latency 0.2] [--concurrency 16]

Target: >= 10x pairs/s. Prints a table and ends with `ratio N.Nx`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.label.labeller import LabelConfig, run_labelling
from pipeline.store import Store
from tests.label_helpers import add_snippets
from tests.label_openai_server import LabelServer


def timed_run(store: Store, model: str, concurrency: int) -> tuple[float, int]:
    config = LabelConfig(model=model, concurrency=concurrency, request_timeout_s=30)
    began = time.perf_counter()
    result = run_labelling(store, config, log=lambda message: None)
    return time.perf_counter() - began, result["labelled"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippets", type=int, default=64, help="snippets labelled by each mode")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight in the fast mode")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as home, LabelServer(latency_s=args.latency) as server:
        store = Store(Path(home) / "studio.db")
        add_snippets(store, args.snippets)
        rows = []
        for name, concurrency in (("one at a time", 1), (f"{args.concurrency} in flight", args.concurrency)):
            model = f"bench-{concurrency}"  # its own labeller name: each mode labels every snippet
            store.register_model(model, "openai", "bench-model", endpoint=server.base_url)
            seconds, labelled = timed_run(store, model, concurrency)
            assert labelled == args.snippets, f"{name}: labelled {labelled} of {args.snippets}"
            rows.append((name, labelled, seconds, labelled / seconds))
        store.close()

    print(f"{'mode':<16} {'pairs':>6} {'seconds':>8} {'pairs/s':>8}   (server latency {args.latency * 1000:.0f} ms)")
    for name, labelled, seconds, rate in rows:
        print(f"{name:<16} {labelled:>6} {seconds:>8.2f} {rate:>8.2f}")
    ratio = rows[1][3] / rows[0][3]
    print(f"ratio {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
