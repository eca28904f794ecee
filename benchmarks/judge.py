"""Judging throughput: N judge requests in flight vs one at a time, against a local
OpenAI-compatible server that answers every request after 200 ms (the real openai client, the real
store, the labeller's request engine). Contestants' answers are generated once, before timing.

    python benchmarks/judge.py [--items 48] [--latency 0.2] [--concurrency 32]

Target: >= 10x judgments/s. Prints a table and ends with `ratio N.Nx`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.judge.run import JudgeConfig, answer_all, judge_all
from pipeline.store import Store
from tests.judge.judge_server import JudgeServer, add_suite, register_models


def timed(store: Store, items: int, concurrency: int) -> tuple[float, int]:
    cfg = JudgeConfig(judge="judge", contestants=["alpha", "beta"], suite="bench", mode="single",
                      concurrency=concurrency, request_timeout_s=30).validate()
    run_id = store.create_judge_run(cfg.suite, cfg.mode, cfg.judge, cfg.contestants, cfg.to_dict())
    run = store.get_judge_run(run_id)
    suite = store.judge_items("bench")[:items]
    quiet = lambda *a, **k: None
    answer_all(store, run, suite, cfg, quiet, quiet)          # untimed: the contestants' side
    rows = store.judge_answers(run_id)
    answers = {k: r["answer"] for k, r in rows.items()}
    began = time.perf_counter()
    _, tally = judge_all(store, run, suite, answers, rows, cfg, None, quiet, quiet)
    return time.perf_counter() - began, tally.ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=48, help="suite items (x2 contestants = judgments)")
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per reply")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home, \
            JudgeServer(lambda prompt, attempt: "Correct and clear.\n\nRating: [[7]]", latency_s=args.latency) as srv:
        store = Store(Path(home) / "studio.db")
        register_models(store, srv)
        add_suite(store, args.items, name="bench")
        serial_s, serial_n = timed(store, args.items, 1)
        flight_s, flight_n = timed(store, args.items, args.concurrency)
    rate_serial, rate_flight = serial_n / serial_s, flight_n / flight_s
    print(f"{'mode':<22} {'judgments':>9} {'seconds':>8} {'judgments/s':>12}")
    print(f"{'one at a time':<22} {serial_n:>9} {serial_s:>8.2f} {rate_serial:>12.2f}")
    print(f"{f'{args.concurrency} in flight':<22} {flight_n:>9} {flight_s:>8.2f} {rate_flight:>12.2f}")
    print(f"ratio {rate_flight / rate_serial:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
