"""The Evals tab's handlers and its validity panel's, called directly (no browser) on a real store:
the lists a refresh fills, the drill-down, the task-by-task comparison, the job poller, and the
refusals (code execution off, bad form values, missing files) that leave the page as it was."""
from __future__ import annotations

import gradio as gr
import pytest

from evals.passk.report import eval_rows
from studio import evals_tab, validity_panel
from studio.common import StudioContext
from tests.studio.handlers import refused

TASKS = [{"task_id": f"T/{i}", "prompt": f"def f{i}():\n", "test": f"assert f{i}() == {i}\n",
          "entry_point": f"f{i}", "canonical_solution": f"    return {i}\n"} for i in range(3)]
RUN_FORM = ("humaneval", 1, 0.0, 0.95, 64, "chat", "synthesize", 1, 10, False)   # after the model


def scored_eval(store, model: str, passes: dict[str, bool], name: str | None = None) -> int:
    """An eval of the 'mini' suite with one sample per task, passed or failed as given."""
    eval_id = store.create_eval("mini", model, {"n_samples": 1}, name=name)
    store.add_eval_samples(eval_id, [{"task_id": t, "sample_idx": 0, "completion": f"    return {t[-1]}\n"}
                                     for t in passes])
    store.record_verdicts(eval_id, [{"task_id": t, "sample_idx": 0, "verdict": "passed" if ok else "failed",
                                     "passed": ok, "error": None if ok else f"AssertionError in {t}"}
                                    for t, ok in passes.items()])
    store.update_eval(eval_id, status="done")
    return eval_id


@pytest.fixture
def mini(store):
    store.create_suite("mini", TASKS, source="test")
    store.register_model("base", "openai", "base-model", endpoint="http://127.0.0.1:9/v1")
    base = scored_eval(store, "base", {"T/0": True, "T/1": False, "T/2": False})
    tuned = scored_eval(store, "tuned", {"T/0": True, "T/1": True, "T/2": False})
    rows = eval_rows(store)
    by_id = dict(zip([r["id"] for r in rows], evals_tab.eval_labels(rows), strict=True))
    return by_id[base], by_id[tuned]    # the pickers' labels of the two evals


def test_an_empty_store_lists_only_the_builtin_suite(studio_home):
    table, _figure, suites, model, suite, pick, cmp_a, cmp_b = evals_tab.refresh()
    assert table == [] and suites == []
    assert model == gr.update(choices=[])          # no value: a refresh from a job keeps the pick
    assert suite == gr.update(choices=["humaneval"])
    assert pick == cmp_a == cmp_b == gr.update(choices=[])


def test_a_refresh_lists_evals_suites_and_models_and_keeps_the_model_pick(store, mini):
    base, tuned = mini
    table, _figure, suites, model, suite, pick, _, _ = evals_tab.refresh("base")
    assert [row[1] for row in table] == ["tuned", "base"]                 # newest first
    assert suites == [["mini", "python", "humaneval", 3, "test"]]
    assert model == gr.update(choices=["base"], value="base")
    assert suite == gr.update(choices=["humaneval", "mini"])
    assert pick == gr.update(choices=[tuned, base])
    assert evals_tab.refresh("gone")[3] == gr.update(choices=["base"], value="base")   # a deleted model: the first


def test_the_page_opening_says_when_code_execution_is_off(studio_home):
    sandbox, *rest = evals_tab.load(StudioContext(allow_code_execution=False), None)
    assert sandbox.startswith("**Code execution is off.**")
    assert len(rest) == evals_tab.REFRESH_SIZE
    assert evals_tab.sandbox_markdown(StudioContext()).startswith("**Sandbox protections active")


def test_picking_an_eval_lists_its_failing_tasks_first_and_shows_the_first(store, mini):
    base, _ = mini
    rows, task_pick = evals_tab.pick_eval(base)
    assert [r[0] for r in rows] == ["T/1", "T/2", "T/0"]
    assert task_pick == gr.update(choices=["T/1", "T/2", "T/0"], value="T/1")
    assert evals_tab.pick_eval(None) == ([], gr.update(choices=[], value=None))


def test_a_sample_shows_its_verdict_error_and_the_program_as_run(store, mini):
    base, _ = mini
    head, prompt, completion, error, program, raw = evals_tab.show_sample(base, "T/1", 0)
    assert head.startswith("**T/1** sample 0 of 1: **failed**")
    assert "scored from a file" in prompt and "def f1():" in prompt
    assert completion == gr.update(value="    return 1\n", language="python")
    assert "AssertionError in T/1" in error
    assert "assert f1() == 1" in program["value"] and raw == ""
    assert evals_tab.show_sample(base, None, 0) == ("", "", gr.update(), "", gr.update(), "")


def test_a_sample_that_does_not_exist_is_refused(store, mini):
    base, _ = mini
    refused(evals_tab.show_sample, base, "T/1", 3, match="no sample 3")


def test_comparing_two_evals_names_the_fixed_task(store, mini):
    base, tuned = mini
    summary, rows = evals_tab.compare(base, tuned)
    assert "3 common tasks: **1 → 2** solved" in summary
    assert "Fixed (1): T/1" in summary and "Broken (0): —" in summary
    assert rows == [["T/1", "fixed", "0.00", "1.00", ""]]


def test_comparing_needs_two_evals(studio_home):
    refused(evals_tab.compare, None, "1 · a · b", match="Pick two evals")


def test_no_run_starts_where_code_may_not_run(store):
    refused(evals_tab.start_run, StudioContext(allow_code_execution=False), "base", *RUN_FORM,
            match="Code execution is disabled here")
    refused(evals_tab.score_file, StudioContext(allow_code_execution=False), "samples.jsonl", "humaneval", "",
            match="Code execution is disabled here")
    assert store.count("jobs") == 0


def test_a_bad_form_value_starts_nothing(store):
    refused(evals_tab.start_run, StudioContext(), "", *RUN_FORM, match="choose a model to evaluate")
    bad_n = ("humaneval", 0, *RUN_FORM[2:])
    refused(evals_tab.start_run, StudioContext(), "base", *bad_n, match="must be at least 1")
    assert store.count("jobs") == 0 and store.list_evals() == []


def test_scoring_or_importing_without_a_file_is_refused(store):
    refused(evals_tab.score_file, StudioContext(), None, "humaneval", "", match="Choose a samples file first")
    refused(evals_tab.import_suite_file, None, "", match="Choose a suite file first")
    assert store.list_evals() == [] and store.list_suites() == []


def test_importing_a_suite_file_lists_it(store, tmp_path):
    import json

    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    outputs = evals_tab.import_suite_file(str(path), " ")
    assert [s["name"] for s in store.list_suites()] == ["tiny"]
    assert outputs[2][0][0] == "tiny" and outputs[4] == gr.update(choices=["humaneval", "tiny"])


def test_the_poller_waits_for_the_job_then_refreshes(store, mini):
    status, timer, *rest = evals_tab.poll(None)
    assert status == "" and not timer.active and rest == [gr.update()] * evals_tab.REFRESH_SIZE
    job_id = store.create_job("eval_execute", {"eval_id": 1}, "score eval 1")
    status, timer, *rest = evals_tab.poll(job_id)
    assert "data-status='queued'" in status and timer.active
    assert rest == [gr.update()] * evals_tab.REFRESH_SIZE      # nothing reloads while it runs
    store.finish_job(job_id, "done", only_if=("queued",))
    status, timer, table, *_ = evals_tab.poll(job_id)
    assert "data-status='done'" in status and not timer.active
    assert [row[1] for row in table] == ["tuned", "base"]


# --- the syntax validity panel -------------------------------------------------------------------

def test_godot3_code_is_invalid_for_a_godot4_target():
    verdict, findings = validity_panel.check_one(validity_panel.EXAMPLE, "gdscript", "4",
                                                 ["parse", "dialect", "refs", "semantic"], "amend")
    assert verdict.startswith("**INVALID** for target 4")
    assert any("CharacterBody2D" in row[4] for row in findings)
    assert {row[0] for row in findings} == {"answer"}


def test_a_check_needs_a_level_and_a_file_check_needs_a_file():
    refused(validity_panel.check_one, "x = 1", "python", "4", [], "amend", match="Pick at least one level")
    refused(validity_panel.check_file, None, "python", "4", ["parse"], "", "amend",
            match="Upload a .jsonl file of answers first")


def test_a_file_of_answers_is_summarised_with_agreement_with_its_labels(tmp_path):
    import json

    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "ok", "code": "x = 1\n", "valid": True}) + "\n"
                    + json.dumps({"id": "broken", "code": "def f(:\n", "valid": False}) + "\n")
    summary, findings = validity_panel.check_file(str(path), "python", "4", ["parse"], " ", "amend")
    assert summary.startswith("**1 of 2 valid (50.0%)**")
    assert "2/2 = 100.0%" in summary
    assert {row[0] for row in findings} == {"broken"}
