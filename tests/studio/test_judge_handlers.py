"""The judge panel's handlers, called directly (no browser) on a real store: the pickers a refresh
fills, a finished run's scores and category table, the cost estimate, the suite editor, the job
poller, and the refusals (no judge, no suite file, no suite name) that start or save nothing."""
from __future__ import annotations

import json

import gradio as gr
import pytest

from evals.judge.suites import BUILTIN_NAME
from studio import judge_panel
from tests.judge.judge_server import add_suite
from tests.studio.handlers import refused

FORM = ("single", "js", 0, 0, 4, True)   # mode, suite, limit, budget, concurrency, constrained


@pytest.fixture
def models(store):
    add_suite(store, 5, name="js")
    for name in ("alpha", "beta", "judge"):   # an endpoint nothing listens on: nothing here sends a request
        store.register_model(name, "openai", f"{name}-model", endpoint="http://127.0.0.1:9/v1")
    return ["alpha", "beta", "judge"]


def finished_run(store) -> int:
    run_id = store.create_judge_run("js", "single", "judge", ["alpha", "beta"], {})
    store.update_judge_run(run_id, status="done", metrics={
        "models": {"alpha": {"score": 6.5, "judged": 6}, "beta": {"score": 8.0, "judged": 6}},
        "categories": {"fix-bug": {"alpha": 6.5, "beta": 8.0}}, "counts": {"ok": 12}, "bias": {}})
    return run_id


def test_an_empty_store_offers_the_builtin_suite_and_says_there_is_no_run(studio_home):
    judge, contestants, suite, run_pick, results, categories = judge_panel.refresh()
    assert judge == contestants == gr.update(choices=[])
    assert suite == gr.update(choices=[BUILTIN_NAME])
    assert run_pick == gr.update(choices=[], value=None)
    assert results == "No judged evals yet." and categories == gr.update(value=None)


def test_a_refresh_picks_the_newest_run_and_shows_its_scores(store, models):
    run_id = finished_run(store)
    judge, _, suite, run_pick, results, categories = judge_panel.refresh(None)
    assert judge == gr.update(choices=models)
    assert suite == gr.update(choices=[BUILTIN_NAME, "js"])
    label = f"{run_id} · single · alpha, beta by judge · done"
    assert run_pick == gr.update(choices=[label], value=label)
    assert f"**Judged eval {run_id}** · single · judge `judge` · suite js" in results
    assert "| beta | 8.0 | 6 |" in results and "**Bias figures**" in results
    assert categories == gr.update(value=[["fix-bug", 6.5, 8.0]], headers=["category", "alpha", "beta"])


def test_a_run_without_results_says_so(store, models):
    run_id = store.create_judge_run("js", "single", "judge", ["alpha"], {})
    results, categories = judge_panel.show(f"{run_id} · anything")
    assert results == f"Judged eval {run_id} is **new** — no results yet."
    assert categories == gr.update(value=None, headers=["category"])


def test_the_estimate_counts_requests_before_anything_is_sent(store, models):
    text = judge_panel.estimate("judge", ["alpha", "beta"], *FORM)
    assert text.startswith("10 requests")   # 5 items x 2 contestants
    assert "10 judge requests for 5 items x 2 contestants" in text
    assert store.list_judge_runs() == [] and store.count("jobs") == 0


def test_no_judge_or_no_contestant_starts_nothing(store, models):
    refused(judge_panel.start, "", ["alpha"], *FORM, "", match="choose a judge model")
    refused(judge_panel.start, "judge", [], *FORM, "", match="contestant")
    assert store.list_judge_runs() == [] and store.count("jobs") == 0


def test_the_poller_waits_for_the_job_then_refreshes(store, models):
    status, timer, *rest = judge_panel.poll(None, None)
    assert status == "" and not timer.active and rest == [gr.update()] * judge_panel.REFRESH_SIZE
    run_id = finished_run(store)
    job_id = store.create_job("judge", {"run_id": run_id}, "judge")
    status, timer, *rest = judge_panel.poll(job_id, None)
    assert "id='judge-job' data-status='queued'" in status and timer.active
    assert rest == [gr.update()] * judge_panel.REFRESH_SIZE
    store.finish_job(job_id, "done", only_if=("queued",))
    status, timer, *_, run_pick, results, _ = judge_panel.poll(job_id, None)
    assert "data-status='done'" in status and not timer.active
    assert run_pick["value"].startswith(f"{run_id} · ") and "| alpha | 6.5 | 6 |" in results


def test_a_written_suite_is_saved_and_picked(store):
    rows = [["w1", "write-function", "python", "Write f returning 1.", "def f():\n    return 1"],
            ["w2", "fix-bug", "python", "Fix g.", ""]]
    picked = judge_panel.save_written(rows, "  mine  ")
    assert picked == gr.update(choices=[BUILTIN_NAME, "mine"], value="mine")
    assert [i["id"] for i in store.judge_items("mine")] == ["w1", "w2"]


def test_a_written_suite_needs_a_name(store):
    refused(judge_panel.save_written, [["w1", "c", "python", "x", ""]], " ", match="Give the suite a name")
    assert store.list_judge_suites() == []


def test_a_suite_file_is_imported_under_its_stem_and_picked(store, tmp_path):
    path = tmp_path / "from-file.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "category": "explain", "instruction": f"Explain {i}."})
                            + "\n" for i in range(3)))
    picked = judge_panel.import_file(str(path), "", None)
    assert picked == gr.update(choices=[BUILTIN_NAME, "from-file"], value="from-file")
    assert len(store.judge_items("from-file")) == 3
    refused(judge_panel.import_file, None, "x", None, match="Choose a suite file first")
