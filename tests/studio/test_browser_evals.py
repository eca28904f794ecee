"""The Evals tab in a real browser: the sandbox status is shown, a samples file is scored by a
job, and the results table, the per-task drill-down and the failing test appear."""
from __future__ import annotations

import json

import pytest

from evals.passk.suites import humaneval_tasks
from tests.browser import open_accordion, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_scoring_a_samples_file_shows_pass_at_1_and_the_failing_test(studio_page, tmp_path):
    tasks = humaneval_tasks()[:3]
    samples = tmp_path / "browser-samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t["task_id"], "completion":
                                           t["canonical_solution"] if i < 2 else "    return None\n"}) + "\n"
                               for i, t in enumerate(tasks)))
    open_tab(studio_page, "Evals")
    studio_page.wait_for_selector("#evals-sandbox :text('network namespace')")
    assert "**OFF**" not in studio_page.locator("#evals-sandbox").inner_text()
    open_accordion(studio_page, "Suites and samples files", "#evals-samples-file")
    studio_page.locator("#evals-samples-file input[type=file]").set_input_files(str(samples))
    studio_page.wait_for_selector("#evals-samples-file :text('browser-samples.jsonl')", timeout=90_000)
    studio_page.locator("#evals-score").click()
    studio_page.wait_for_selector("#evals-job [data-status=done]", timeout=90_000)
    studio_page.wait_for_function(
        "() => document.querySelector('#evals-table').innerText.includes('browser-samples.jsonl')")
    assert "0.667" in studio_page.locator("#evals-table").inner_text()
    studio_page.locator("#evals-pick input").click()
    studio_page.get_by_role("option", name="browser-samples.jsonl", exact=False).first.click()
    studio_page.wait_for_selector("#evals-verdict :text('HumanEval/2')")
    assert "failed" in studio_page.locator("#evals-verdict").inner_text()
    assert "assert candidate(" in studio_page.locator("#evals-error textarea").input_value()


def test_validity_panel_flags_godot3_code_for_a_godot4_target(studio_page):
    open_tab(studio_page, "Evals")
    open_accordion(studio_page, "Check answers for a language", "#validity-code")
    studio_page.get_by_role("button", name="Check this answer").click()
    verdict = studio_page.locator("#validity-verdict")
    verdict.get_by_text("INVALID").wait_for()
    table = studio_page.get_by_text("KinematicBody2D was renamed to CharacterBody2D")
    table.wait_for()
    assert studio_page.get_by_text("yield() was replaced by await").count() >= 1
