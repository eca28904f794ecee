"""The Compare tab's handlers, called directly (no browser) on a real store: the leaderboard and the
category table a refresh fills (and what it says with no judged eval), the exports, and where a
click on a number leads (the Evals tab's drill-down or judge panel, the Chat tab's arena)."""
from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import pytest

from evals.compare import COLUMNS
from studio import compare_tab
from tests.judge.board import seed


def click(model: str, column: str) -> gr.SelectData:
    """A click on the board's cell of `model` in `column`, as Gradio hands it to the handler."""
    return gr.SelectData(None, {"index": [0, COLUMNS.index(column)], "value": None,
                                "row_value": [model, *[""] * (len(COLUMNS) - 1)]})


def test_an_empty_board_says_a_judged_eval_is_needed_and_hides_the_plot(studio_home):
    run_pick, board, categories, plot = compare_tab.refresh()
    assert run_pick == gr.update(choices=[], value=None)
    assert board == gr.update(value=None, headers=COLUMNS)
    assert categories == compare_tab.NO_CATEGORIES
    assert plot.visible is False


def test_the_board_joins_pass_at_1_and_judge_scores_with_the_category_plot(store):
    _eval_id, run_id = seed(store)
    run_pick, board, categories, plot = compare_tab.refresh("not listed")
    label = f"{run_id} · single · alpha, beta by judge"
    assert run_pick == gr.update(choices=[label], value=None)      # an unknown pick falls back to the latest
    assert [row[0] for row in board["value"]] == ["beta", "alpha"]  # by judge score
    assert board["value"][1][1:4] == ["0.250", "0.900", "6.50"]
    assert categories.startswith("## Judge scores by category") and "| fix-bug | 6.5 | 8.0 |" in categories
    assert plot.visible is True
    assert sorted(map(tuple, plot.value["data"])) == [("fix-bug", "alpha", 6.5), ("fix-bug", "beta", 8.0)]
    assert compare_tab.refresh(label)[0] == gr.update(choices=[label], value=label)


def test_the_exports_are_the_cli_tables(store):
    from evals.compare import leaderboard, to_csv, to_markdown

    seed(store)
    csv_path, md_path = map(Path, compare_tab.export(None))
    assert (csv_path.name, md_path.name) == ("leaderboard.csv", "leaderboard.md")
    assert csv_path.read_text(encoding="utf-8") == to_csv(leaderboard(store))     # what the CLI writes
    assert md_path.read_text(encoding="utf-8") == to_markdown(leaderboard(store)) + "\n"
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == COLUMNS and [r[0] for r in rows[1:3]] == ["beta", "alpha"]


def test_a_judge_score_opens_its_judged_eval_in_the_evals_tab(store):
    _, run_id = seed(store)
    tabs, eval_pick, run_pick, accordion, marker = compare_tab.open_source(None, click("beta", "judge score"))
    assert tabs.selected == "evals" and eval_pick == gr.skip()
    assert run_pick["value"] == f"{run_id} · single · alpha, beta by judge · done"
    assert accordion.open is True and marker == compare_tab.scroll_marker("#judge-results")


def test_a_pass_at_1_opens_its_eval_in_the_drill_down(store):
    eval_id, _ = seed(store)
    tabs, eval_pick, run_pick, accordion, marker = compare_tab.open_source(None, click("alpha", "pass@1"))
    assert tabs.selected == "evals"
    assert eval_pick == gr.update(choices=[f"{eval_id} · alpha · mini"], value=f"{eval_id} · alpha · mini")
    assert run_pick == accordion == gr.skip() and marker == compare_tab.scroll_marker("#evals-pick")


@pytest.mark.parametrize(("model", "column"), [("alpha", "model"), ("beta", "pass@1"), ("alpha", "sources")])
def test_a_cell_with_no_source_changes_nothing(store, model, column):
    seed(store)   # beta has no pass@1: the cell is empty
    assert compare_tab.open_source(None, click(model, column)) == (gr.skip(),) * 5
