"""The Repos tab's handlers called directly (no browser) on a real store: the overview and the
snippet browser on an empty store, refusals of bad input, a GitHub search against a local fake
API, and a local repo added, curated by a real job and browsed."""
from __future__ import annotations

import gradio as gr
import pytest

from pipeline import jobs
from pipeline.curate import job as curate
from pipeline.curate.licenses import PERMISSIVE_LICENSES
from studio import repos_tab as tab
from studio import snippet_browser
from tests.curate_github_server import FakeGitHub
from tests.curate_github_server import make_repo as github_repo
from tests.curate_repos import GAME_REPO, make_repo
from tests.studio.handlers import SKIP, refused


def curate_form(**changes) -> list:
    """The curate form's values in the order the page sends them (curate_config's fields)."""
    form = dict(ids="", fetch=True, extract=True, mine=False, keep=False, force=False, langs=[],
                min_l=None, max_l=curate.DEFAULT_MAX_LINES, max_mb=curate.DEFAULT_MAX_REPO_MB,
                max_f=curate.DEFAULT_MAX_FILES, n_commits=curate.DEFAULT_MAX_COMMITS, granularity="file",
                min_t=curate.DEFAULT_MIN_TOKENS, max_t=curate.DEFAULT_MAX_TOKENS,
                licenses=list(PERMISSIVE_LICENSES), unlicensed=True)
    form.update(changes)
    return list(form.values())


def test_an_empty_store_shows_an_empty_overview_and_snippet_page(studio_home):
    text, rows, figure = tab.refresh()
    assert text.startswith("**0 repos** (none)") and "**0 snippets**" in text
    assert rows == []
    assert [ax.get_title() for ax in figure.axes] == ["snippets by language", "snippets by length (lines)"]
    assert snippet_browser.list_page(0, "", "", "", False, 3) == ([], "page 1 of 1 · 0 snippets", 1)
    assert snippet_browser.prev_page(0, "", "", "", False, 1)[2] == 1
    assert snippet_browser.scrub_review(0) == []
    assert tab.tick(None, 0, "", "", "", False, 1) == (SKIP,) * 8   # no job: the timer changes nothing


def test_bad_input_is_refused_with_a_warning_and_writes_nothing(store):
    assert "Enter the path" in refused(tab.add_local, "   ", "")
    assert "No repos to add" in refused(tab.add_picked, [], [])
    assert "No repos to add" in refused(tab.add_picked, [[False, "o/a"]], [{"full_name": "o/a"}])
    assert "repo ids must be numbers" in refused(tab.start_curate_job, *curate_form(ids="1, two"))
    assert "nothing to do" in refused(tab.start_curate_job, *curate_form(fetch=False, extract=False))
    assert "expected owner/name" in refused(tab.add_by_name, "../../etc")
    with pytest.raises(gr.Error, match="language, a topic or some search words"):
        list(tab.search("", ["mit"], 0, 100, "", "", "", "", ""))
    assert store.count("repos") == 0 and store.count("jobs") == 0


def test_search_leaves_out_curated_repos_and_adds_only_the_picked(store, monkeypatch):
    server = FakeGitHub([github_repo("octo/jumper", stars=50), github_repo("octo/runner", stars=20),
                         github_repo("octo/known", stars=99)]).start()
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    try:
        store.add_repos([{"source": "github", "full_name": "octo/known", "url": "https://github.com/octo/known"}])
        *progress, (status, rows, found) = tab.search("GDScript", ["mit"], 0, 100, "", "", "", "", "")
        assert all(p[1:] == (SKIP, SKIP) for p in progress)   # while searching only the status moves
        assert status == "2 repos found (already curated ones left out)"
        assert [r[:3] for r in rows] == [[True, "octo/jumper", 50], [True, "octo/runner", 20]]

        rows[1][0] = False   # untick the runner
        text, table, _ = tab.add_picked(rows, found)
        assert text.startswith("**2 repos**") and [r[1] for r in table] == ["octo/known", "octo/jumper"]
        text, table, _ = tab.add_all(rows, found)   # the jumper is already there: only the runner is new
        assert {r[1] for r in table} == {"octo/known", "octo/jumper", "octo/runner"}

        assert "does not exist on GitHub" in refused(tab.add_by_name, "octo/gone")
        assert store.count("repos") == 3
    finally:
        server.stop()


def test_a_local_repo_is_added_curated_by_a_job_and_browsed(store, tmp_path):
    game = make_repo(tmp_path / "game", GAME_REPO)
    text, table, _ = tab.add_local(str(game), "")
    assert text.startswith("**1 repos** (1 new)")
    assert table[0][1:4] == ["local/game", "local", "new"]
    assert "already in the store" in refused(tab.add_local, str(game), "")

    jid, progress = tab.start_curate_job(*curate_form())
    assert f"data-job-id='{jid}'" in progress and store.get_job(jid)["params"]["allow_unlicensed_local"] is True
    assert jobs.wait(store, jid, timeout=180)["status"] == "done"

    done, text, table, _, job_id, snippets, info, page = tab.tick(jid, 0, "", "", "", False, 1)
    assert "data-status='done'" in done and "1 curated, 0 failed" in done
    assert job_id is None                                     # finished: the polling stops
    assert "**1 repos** (1 extracted)" in text and table[0][11] == "Godot 4.x"
    assert [row[2] for row in snippets] == ["player.gd"] and info == "page 1 of 1 · 1 snippets" and page == 1

    # paging past either end stays on the one page; a filter that matches nothing empties it
    assert snippet_browser.next_page(0, "", "", "", False, 1)[1:] == ("page 1 of 1 · 1 snippets", 1)
    assert snippet_browser.first_page(0, "python", "", "", False) == ([], "page 1 of 1 · 0 snippets", 1)

    clicked = gr.SelectData(None, {"index": [0, 2], "value": "player.gd", "row_value": snippets[0]})
    provenance, code = snippet_browser.show_snippet(snippets, clicked)
    assert "**local/game** @ `" in provenance and "`player.gd` lines" in provenance and "`jump`" in provenance
    assert "func jump(force):" in code["value"] and code["language"] is not None
