"""The Lineage tab's handlers called directly (no browser) on a real store: an empty store and
refused references, then a score traced back to its repo's commit and, from a clicked row,
forward again."""
from __future__ import annotations

import gradio as gr
import pytest

from studio import lineage_tab as tab
from tests.lineage.chain import lineage_chain
from tests.studio.handlers import SKIP, refused


def clicked(row: list) -> gr.SelectData:
    """The event a click on a table row sends."""
    return gr.SelectData(None, {"index": [0, 1], "value": row[1] if len(row) > 1 else "", "row_value": row})


@pytest.fixture
def chain(store) -> dict:
    return lineage_chain(store)


def test_an_empty_store_offers_nothing_and_refuses_what_is_not_there(studio_home):
    assert tab.refresh(None) == gr.update(choices=[], value=None)
    assert "Pick or type what to trace" in refused(tab.show, "  ")
    assert refused(tab.show, "eval:999")
    assert refused(tab.show, "nonsense")
    assert tab.recentre(clicked([])) == (SKIP,) * 6
    assert tab.recentre(clicked(["repo", "", "… and 3 more", ""])) == (SKIP,) * 6   # the "more" row


def test_a_score_traces_back_to_its_commit_and_a_clicked_repo_forward_to_the_score(chain):
    pick, focus, sources, up, down, command = tab.show(f"  {chain['eval']} ")
    assert pick["value"] == chain["eval"] and focus.startswith("### ") and f"`{chain['eval']}`" in focus
    assert "| lineage/demo | `feedfacecafebeef` |" in sources
    up_refs = [row[1] for row in up]
    assert chain["run"] in up_refs and chain["repo"] in up_refs
    assert command == f"python -m pipeline lineage {chain['eval']}"

    [repo_row] = [row for row in up if row[1] == chain["repo"]]
    pick, focus, _, up, down, command = tab.recentre(clicked(repo_row))
    assert pick["value"] == chain["repo"] and command == f"python -m pipeline lineage {chain['repo']}"
    assert chain["eval"] in [row[1] for row in down] and chain["run"] in [row[1] for row in down]

    offered = tab.refresh(chain["run"])
    assert offered["value"] == chain["run"] and chain["eval"] in offered["choices"]
    assert tab.refresh("run:999")["value"] == offered["choices"][0]   # a pick no longer offered gives way
