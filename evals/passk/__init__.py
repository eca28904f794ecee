"""pass@k: generate code for a suite's tasks, run it in the sandbox, score with the unbiased estimator.

The stage: `suites` (HumanEval/MBPP/HumanEvalPack JSONL, shape detected), `prompting` and
`postprocess` (prompt formats and stop words), `generate` (the resumable generation and
execution jobs), `execute` (one sample's program per language, run by evals.sandbox), `score`
(human-eval-format samples files), `report`, `reference` (canonical solutions as a check).

    python -m evals passk suites|import|protections|run|list|show|tasks|sample|compare|execute
    python -m evals passk --samples FILE.jsonl      # score a human-eval samples file

This module holds the estimator of Chen et al. 2021 (Codex paper), as pure functions.

    pass_at_k(n=10, c=3, k=1)  -> 0.3
    pass_at_k_table({"t1": [True, False], "t2": [False, False]})  -> {1: 0.25, 2: 0.5}

For one task with n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that
at least one of k samples drawn without replacement passes. Computed as a running product so
n = 200 needs no big binomials. A suite's pass@k is the mean over tasks; it is reported for
every k up to the smallest n among the tasks (a task with fewer samples cannot inform a larger k).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

JOB_KINDS = {
    "eval_generate": "evals.passk.generate:eval_generate_job",
    "eval_execute": "evals.passk.generate:eval_execute_job",
}

STANDARD_K = (1, 2, 5, 10, 20, 25, 50, 100, 200)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task: n samples, c of them correct."""
    if not (0 <= c <= n):
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not (1 <= k <= n):
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def counts(results: Mapping[str, Sequence[bool]]) -> dict[str, tuple[int, int]]:
    """task -> (n, c) from per-sample pass booleans."""
    return {task: (len(r), sum(bool(x) for x in r)) for task, r in results.items()}


def pass_at_k_table(results: Mapping[str, Sequence[bool]],
                    ks: Iterable[int] | None = None) -> dict[int, float]:
    """Mean pass@k over tasks for each k (default: every k from 1 to the smallest n)."""
    per_task = [nc for nc in counts(results).values() if nc[0] > 0]
    if not per_task:
        return {}
    smallest = min(n for n, _ in per_task)
    ks = range(1, smallest + 1) if ks is None else [k for k in ks if 1 <= k <= smallest]
    return {k: sum(pass_at_k(n, c, k) for n, c in per_task) / len(per_task) for k in ks}


def headline_ks(table: Mapping[int, float]) -> dict[int, float]:
    """The k values people quote (1, 10, 100 …) out of a full table."""
    return {k: v for k, v in table.items() if k in STANDARD_K}


def format_table(table: Mapping[int, float]) -> str:
    """'pass@1 0.612  pass@10 0.843' for logs and the CLI."""
    return "  ".join(f"pass@{k} {v:.4f}" for k, v in headline_ks(table).items())
