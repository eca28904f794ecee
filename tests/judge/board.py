"""A leaderboard's worth of results for the Compare tests (CLI and tab): one pass@k eval of model
alpha and one single-mode judge run scoring alpha and beta in one category."""
from __future__ import annotations


def seed(store) -> tuple[int, int]:
    """(eval id, judge run id) of the seeded results."""
    store.create_suite("mini", [{"task_id": "m/0", "prompt": "def f():", "test": "", "entry_point": "f"}])
    eval_id = store.create_eval("mini", "alpha", {})
    store.update_eval(eval_id, status="done", metrics={"pass_at_k": {"1": 0.25}, "validity_rate": 0.9})
    store.create_judge_suite("js", [{"id": "t1", "category": "fix-bug", "instruction": "Fix"}])
    run_id = store.create_judge_run("js", "single", "judge", ["alpha", "beta"], {})
    store.update_judge_run(run_id, status="done", metrics={
        "models": {"alpha": {"score": 6.5, "judged": 6}, "beta": {"score": 8.0, "judged": 6}},
        "categories": {"fix-bug": {"alpha": 6.5, "beta": 8.0}}, "counts": {"ok": 12}, "bias": {}})
    return eval_id, run_id
