"""The Repos tab's GitHub search in a real browser, against a local server speaking GitHub's REST
shapes (the studio is started with GITHUB_API_URL pointing at it)."""
from __future__ import annotations

import pytest

from tests.browser import free_port, launch_studio, open_tab, stop, wait_served
from tests.curate_github_server import FakeGitHub, make_repo

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_search_lists_results_and_add_all_registers_them(browser, tmp_path):
    repos = [make_repo("godotfan/platformer", stars=120), make_repo("someone/tilemap-tools", stars=40),
             make_repo("other/lowstars", stars=2), make_repo("py/thing", language="Python", stars=500)]
    github = FakeGitHub(repos).start()
    port = free_port()
    proc = launch_studio(tmp_path, port, {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": ""})
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_served(url, proc)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(url)
        open_tab(page, "Repos")
        page.get_by_role("button", name="Search", exact=True).click()
        results = page.locator("#repos-results")
        results.get_by_text("godotfan/platformer").wait_for()
        assert results.get_by_text("someone/tilemap-tools").count() >= 1
        assert results.get_by_text("py/thing").count() == 0        # other language
        assert results.get_by_text("other/lowstars").count() == 0  # under the default min stars
        assert any("language:GDScript" in q for q in github.queries)
        page.get_by_role("button", name="Add all").click()
        page.locator("#repos-table").get_by_text("godotfan/platformer").wait_for()
        page.close()
    finally:
        stop(proc)
        github.stop()
