"""Two evals side by side, task by task: which tasks flipped from failing to passing and back.

    compare_evals(store, 3, 7)["flipped_to_pass"]   # tasks eval 7 solves that eval 3 did not

A task counts as solved when at least one of its samples passed; with several samples per task
the per-task pass rate (c/n, i.e. pass@1) is compared too.
"""
from __future__ import annotations

from pipeline.store.base import StoreError


def _per_task(store, eval_id: int) -> dict[str, dict]:
    return {r["task_id"]: r for r in store.eval_task_summary(eval_id) if r["executed"]}


def compare_evals(store, a: int, b: int) -> dict:
    if a == b:
        raise StoreError("choose two different evals to compare")
    ea, eb = store.get_eval(a), store.get_eval(b)
    ta, tb = _per_task(store, a), _per_task(store, b)
    if not ta or not tb:
        raise StoreError(f"eval {a if not ta else b} has no executed samples yet")
    rows, to_pass, to_fail = [], [], []
    for task_id in [t for t in ta if t in tb]:
        ra, rb = ta[task_id], tb[task_id]
        rate_a, rate_b = ra["passed"] / ra["executed"], rb["passed"] / rb["executed"]
        solved_a, solved_b = ra["passed"] > 0, rb["passed"] > 0
        if solved_b and not solved_a:
            change = "fixed"
            to_pass.append(task_id)
        elif solved_a and not solved_b:
            change = "broken"
            to_fail.append(task_id)
        elif rate_b > rate_a:
            change = "better"
        elif rate_b < rate_a:
            change = "worse"
        else:
            change = "same"
        rows.append({"task_id": task_id, "a_pass_rate": rate_a, "b_pass_rate": rate_b,
                     "change": change, "b_error": rb["first_error"] if change == "broken" else None})
    common = len(rows)
    return {
        "a": {"id": a, "model": ea["model"], "suite": ea["suite"]},
        "b": {"id": b, "model": eb["model"], "suite": eb["suite"]},
        "common_tasks": common,
        "a_solved": sum(1 for r in rows if r["a_pass_rate"] > 0),
        "b_solved": sum(1 for r in rows if r["b_pass_rate"] > 0),
        "flipped_to_pass": to_pass, "flipped_to_fail": to_fail,
        "only_in_a": sorted(set(ta) - set(tb)), "only_in_b": sorted(set(tb) - set(ta)),
        "tasks": rows,
    }
