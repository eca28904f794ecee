"""The Repos tab in a real browser: add a local git repo, run the curate job, browse its snippet."""
from __future__ import annotations

import pytest

from tests.browser import open_tab
from tests.curate_repos import GAME_REPO, make_repo

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def visible_text(page, container: str, text: str):
    """The visible element inside `container` showing `text` (tables keep hidden copies of cells)."""
    found = page.locator(container).get_by_text(text).filter(visible=True).first
    found.wait_for(timeout=120_000)
    return found


def test_add_local_repo_curate_and_see_the_snippet(studio_page, tmp_path):
    game = make_repo(tmp_path / "browser-game", GAME_REPO)
    page = studio_page
    open_tab(page, "Repos")
    # The page's load has filled the overview: its events are wired, so the clicks below are not
    # lost (on a loaded machine the first clicks can land before that).
    visible_text(page, "#repos-summary", "repos")
    page.get_by_text("Add a repo by name or a local folder").click()
    page.locator("#repos-local-path textarea, #repos-local-path input").first.fill(str(game))
    # On a loaded machine a click can be lost or its table update overtaken: try again, then ask
    # the table for what the store holds (a second Add is refused as "already in the store").
    row = page.locator("#repos-table").get_by_text("local/browser-game").filter(visible=True).first
    for attempt in range(3):
        page.get_by_role("button", name="Add local").click()
        if attempt:
            page.wait_for_timeout(2000)
            page.locator("#repos-refresh").click()
        try:
            row.wait_for(timeout=30_000)
            break
        except Exception:   # playwright's TimeoutError: one more round
            continue
    visible_text(page, "#repos-table", "local/browser-game")

    page.get_by_role("button", name="Start curate job").click()
    page.wait_for_selector("#curate-job[data-status='done']", timeout=120_000)
    visible_text(page, "#repos-table", "Godot 4.x")
    visible_text(page, "#repos-summary", "snippets")

    # The snippet list refreshes by itself when the job ends (no Refresh click: a second render
    # racing the click below would swallow it).
    visible_text(page, "#snippets-table", "player.gd").click()
    visible_text(page, "#snippet-code", "func jump(force):")
    assert "local/browser-game" in page.locator("#snippet-provenance").inner_text()
