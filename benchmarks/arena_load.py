"""The public arena under load: N simulated anonymous visitors (default 30) chat side by side and
vote against a real public-arena instance (`python app.py`, STUDIO_PUBLIC_ARENA=1, on 127.0.0.1)
serving two tiny models, through gradio_client, each a separate browser session.

    python benchmarks/arena_load.py [--visitors 30] [--rounds 3] [--per-minute 6] [--time-limit 600]

Baseline, in the same run against the same instance: one visitor alone (after a warm-up that
loads the models). Each visitor then plays `rounds` rounds (send, then vote); one prompt in four
is over the arena's prompt limit, so the limits are exercised. Prints time to first token p50/p95 (and the ratio to the baseline), requests
refused by the limits, errors, votes sent vs stored, and ends with `lost votes N` (target 0,
errors 0). Bounded: visitors are threads of this process, the server stops by itself
(`timeout`), and the whole run stops at --time-limit.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

MODES = ("Side by side",)
MAX_PROMPT_CHARS = 80
# One prompt in four is over the arena's prompt limit, so the limits are exercised deterministically
# (the per-minute limit depends on how long the queue makes each round take).
PROMPTS = ["def add(a, b):", "Reverse a list in Python.", "def fib(n):",
           "Explain, step by step and with examples, how to write a GDScript _ready function " * 2]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ttft: list[float] = []
        self.refused = 0
        self.errors: list[str] = []
        self.votes_sent = 0


def visitor(url: str, rounds: int, tokens: int, tally: Tally, deadline: float, seed: int) -> None:
    from gradio_client import Client

    try:
        c = Client(url, verbose=False, download_files=False)
        a, b = c.predict(None, None, api_name="/offered")
        a, b = a.get("value") if isinstance(a, dict) else a, b.get("value") if isinstance(b, dict) else b
    except Exception as exc:  # any failure is counted and the run goes on
        with tally.lock:
            tally.errors.append(f"connect: {type(exc).__name__}: {exc}")
        return
    for r in range(rounds):
        if time.monotonic() > deadline:
            return
        prompt = PROMPTS[(seed + r) % len(PROMPTS)]
        began = time.perf_counter()
        first = None
        try:
            job = c.submit("Side by side", a, b, prompt, tokens, api_name="/arena_send")
            for out in job:
                if first is None and any(isinstance(bot, list) and bot and bot[-1].get("role") == "assistant"
                                         and bot[-1].get("content") not in ("", "…") for bot in out[:2]):
                    first = time.perf_counter() - began
            job.result()
        except Exception as exc:
            text = str(exc)
            with tally.lock:
                if "limit:" in text:
                    tally.refused += 1
                else:
                    tally.errors.append(f"send: {text[:200]}")
            continue
        with tally.lock:
            if first is not None:
                tally.ttft.append(first)
        try:
            c.predict(api_name="/arena_vote_" + ("a", "b", "tie")[(seed + r) % 3])
            with tally.lock:
                tally.votes_sent += 1
        except Exception as exc:
            with tally.lock:
                tally.errors.append(f"vote: {str(exc)[:200]}")


def run(url: str, n: int, rounds: int, tokens: int, deadline: float) -> tuple[Tally, float]:
    tally = Tally()
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(visitor, url, rounds, tokens, tally, deadline, i) for i in range(n)]
        wait(futures, timeout=max(1.0, deadline - time.monotonic()))
    return tally, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=30, help="simulated anonymous visitors")
    parser.add_argument("--rounds", type=int, default=3, help="send+vote rounds each visitor tries")
    parser.add_argument("--per-minute", type=int, default=6, help="the arena's messages-per-minute limit")
    parser.add_argument("--tokens", type=int, default=16, help="max new tokens per answer")
    parser.add_argument("--concurrency", type=int, default=2, help="answers generated at once (the queue)")
    parser.add_argument("--time-limit", type=float, default=600, help="stop the whole run after this many seconds")
    args = parser.parse_args(argv)

    from pipeline import access
    from pipeline.store import Store
    from tests.access.hosted_server import launch, stop
    from tests.helpers import build_tiny_model

    deadline = time.monotonic() + args.time_limit
    with tempfile.TemporaryDirectory(prefix="arena-load-") as tmp:
        home = Path(tmp)
        model_dir = build_tiny_model(home / "models" / "tiny")
        store = Store(home / "studio.db")
        with access.acting_as(access.OWNER):
            for name in ("tiny-a", "tiny-b"):
                store.register_model(name, "local", str(model_dir), template="alpaca")
                store.publish_model(name)
        store.close()
        proc, url = launch(home, {"STUDIO_HOSTED": "1", "STUDIO_AUTH": "owner:bench", "STUDIO_OWNERS": "owner",
                                  "STUDIO_PUBLIC_ARENA": "1",
                                  "STUDIO_ARENA_MESSAGES_PER_MINUTE": str(args.per_minute),
                                  "STUDIO_ARENA_MAX_NEW_TOKENS": str(args.tokens),
                                  "STUDIO_ARENA_MAX_PROMPT_CHARS": str(MAX_PROMPT_CHARS),
                                  "STUDIO_ARENA_CONCURRENCY": str(args.concurrency),
                                  "STUDIO_ARENA_QUEUE_SIZE": str(max(64, args.visitors * 2))},
                           lifetime_s=int(args.time_limit) + 120)
        try:
            warm, _ = run(url + "/", 1, 1, args.tokens, deadline)   # loads the models; its TTFT not counted
            base, _ = run(url + "/", 1, 1, args.tokens, deadline)
            load, elapsed = run(url + "/", args.visitors, args.rounds, args.tokens, deadline)
            with sqlite3.connect(home / "studio.db") as conn:
                stored = conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
                anonymous = conn.execute("SELECT COUNT(DISTINCT voter) FROM votes WHERE voter LIKE 'anon-%'"
                                         ).fetchone()[0]
        finally:
            stop(proc)

    sent = warm.votes_sent + base.votes_sent + load.votes_sent
    b50 = percentile(base.ttft, 0.5)
    p50, p95 = percentile(load.ttft, 0.5), percentile(load.ttft, 0.95)
    print("| run | visitors | answers | TTFT p50 s | TTFT p95 s | p50 / baseline | p95 / baseline |")
    print("|---|---|---|---|---|---|---|")
    print(f"| baseline (alone) | 1 | {len(base.ttft)} | {b50:.2f} | {percentile(base.ttft, 0.95):.2f} | 1.00x | 1.00x |")
    print(f"| load | {args.visitors} | {len(load.ttft)} | {p50:.2f} | {p95:.2f} | {p50 / b50:.2f}x | {p95 / b50:.2f}x |")
    print(f"load run {elapsed:.0f}s; concurrency {args.concurrency}; {args.rounds} rounds tried per visitor")
    too_long = sum(len(PROMPTS[(i + r) % len(PROMPTS)]) > MAX_PROMPT_CHARS
                   for i in range(args.visitors) for r in range(args.rounds))
    print(f"refused by the limits {load.refused} (prompts over {MAX_PROMPT_CHARS} characters: {too_long}; "
          f"the rest, if any, by {args.per_minute} messages/min)")
    errors = warm.errors + base.errors + load.errors
    print(f"errors {len(errors)}" + (": " + "; ".join(errors[:5]) if errors else ""))
    print(f"votes sent {sent}, stored {stored} (from {anonymous} anonymous sessions)")
    print(f"lost votes {sent - stored}")
    return 0 if sent == stored and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
