"""The evals store mixin on a real SQLite file: suites, evals, samples, verdicts, summaries."""
from __future__ import annotations

import pytest

from evals.compare import compare_evals
from evals.passk.generate import compute_metrics
from pipeline.store import ConflictError, NotFoundError, StoreError

TASKS = [{"task_id": f"T/{i}", "prompt": f"def f{i}():\n", "test": f"assert f{i}() == {i}\n",
          "entry_point": f"f{i}", "canonical_solution": f"    return {i}\n", "meta": {"k": i}}
         for i in range(3)]


@pytest.fixture
def suite(store):
    return store.create_suite("mini", TASKS, source="test")


def add_scored_eval(store, model, passes: dict[str, list[bool]]) -> int:
    eval_id = store.create_eval("mini", model, {"n_samples": 2})
    store.add_eval_samples(eval_id, [{"task_id": t, "sample_idx": i, "completion": "x"}
                                     for t, ps in passes.items() for i in range(len(ps))])
    store.record_verdicts(eval_id, [{"task_id": t, "sample_idx": i, "verdict": "passed" if p else "failed",
                                     "passed": p, "error": None if p else f"AssertionError in {t}"}
                                    for t, ps in passes.items() for i, p in enumerate(ps)])
    return eval_id


def test_the_migration_adds_the_sample_detail_columns(store):
    cols = {c.name for c in store.db["eval_samples"].columns}
    assert {"failing_test", "passed_plus", "verdict_plus", "error_plus", "output", "mode"} <= cols


def test_a_suite_and_its_tasks_round_trip(store, suite):
    assert (suite["name"], suite["tasks"], suite["language"]) == ("mini", 3, "python")
    tasks = store.suite_tasks("mini")
    assert [t["task_id"] for t in tasks] == ["T/0", "T/1", "T/2"]
    assert tasks[2]["meta"] == {"k": 2}
    assert store.list_suites()[0]["tasks"] == 3


def test_duplicate_task_ids_are_refused(store):
    with pytest.raises(StoreError, match="repeats a task_id"):
        store.create_suite("dup", TASKS + TASKS[:1])


def test_a_suite_in_use_cannot_be_deleted_or_replaced(store, suite):
    store.create_eval("mini", "m", {})
    with pytest.raises(ConflictError, match="used by 1 eval"):
        store.delete_suite("mini")
    with pytest.raises(ConflictError, match="used by 1 eval"):
        store.create_suite("mini", TASKS, replace=True)


def test_samples_keep_prompt_raw_completion_and_stop_words(store, suite):
    eval_id = store.create_eval("mini", "m", {"temperature": 0.2})
    store.add_eval_samples(eval_id, [{"task_id": "T/0", "sample_idx": 0, "prompt": [{"role": "user", "content": "hi"}],
                                      "raw": "RAW", "completion": "    return 0\n", "stop_words": ["\ndef"],
                                      "mode": "continuation"}])
    [s] = store.eval_samples(eval_id)
    assert (s["raw"], s["completion"], s["stop_words"], s["mode"]) == ("RAW", "    return 0\n", ["\ndef"], "continuation")
    assert s["prompt"] == '[{"content": "hi", "role": "user"}]'
    assert store.eval_sample_keys(eval_id) == {("T/0", 0)}


def test_regenerating_a_sample_clears_its_old_verdict(store, suite):
    eval_id = add_scored_eval(store, "m", {"T/0": [True]})
    store.add_eval_samples(eval_id, [{"task_id": "T/0", "sample_idx": 0, "completion": "new"}])
    [s] = store.eval_samples(eval_id, pending_only=True)
    assert s["completion"] == "new" and s["verdict"] is None


def test_verdicts_feed_the_task_summary_and_metrics(store, suite):
    eval_id = add_scored_eval(store, "m", {"T/0": [True, False], "T/1": [False, False], "T/2": [True, True]})
    summary = {t["task_id"]: t for t in store.eval_task_summary(eval_id)}
    assert (summary["T/0"]["passed"], summary["T/0"]["executed"]) == (1, 2)
    assert summary["T/1"]["first_error"] == "AssertionError in T/1"
    metrics = compute_metrics(store, eval_id)
    assert metrics["pass_at_k"]["1"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert metrics["pass_at_k"]["2"] == pytest.approx((1 + 0 + 1) / 3)
    assert metrics["verdicts"] == {"passed": 3, "failed": 3}


def test_compare_lists_the_tasks_that_flipped(store, suite):
    before = add_scored_eval(store, "base", {"T/0": [False, False], "T/1": [True, False], "T/2": [True, True]})
    after = add_scored_eval(store, "tuned", {"T/0": [True, False], "T/1": [False, False], "T/2": [True, False]})
    c = compare_evals(store, before, after)
    assert c["flipped_to_pass"] == ["T/0"]
    assert c["flipped_to_fail"] == ["T/1"]
    assert {r["task_id"]: r["change"] for r in c["tasks"]} == {"T/0": "fixed", "T/1": "broken", "T/2": "worse"}


def test_unknown_rows_raise_not_found(store, suite):
    with pytest.raises(NotFoundError):
        store.get_eval(42)
    with pytest.raises(NotFoundError, match="no suite named 'nope'"):
        store.create_eval("nope", "m", {})
