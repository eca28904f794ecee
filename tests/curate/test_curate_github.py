"""GitHub search through real PyGithub against a local server speaking GitHub's REST shapes."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from pipeline.curate.github import GitHubError, SearchConfig, build_query, get_repo_info, search_repos
from pipeline.errors import StudioError
from tests.curate_github_server import FakeGitHub, make_repo


@pytest.fixture
def github():
    servers = []

    def start(repos):
        server = FakeGitHub(repos).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def cfg(server, **kw) -> SearchConfig:
    kw.setdefault("language", "GDScript")
    return SearchConfig(api_url=server.url, token_env="CURATE_TEST_NO_TOKEN", **kw)


def test_search_returns_matching_repos_most_stars_first(github):
    server = github([make_repo("a/low", stars=5), make_repo("b/high", stars=50),
                     make_repo("c/lua", stars=99, language="Lua"), make_repo("d/gpl", stars=70, license="gpl-3.0")])
    results = search_repos(cfg(server))
    assert [r["full_name"] for r in results] == ["b/high", "a/low"]
    top = results[0]
    assert (top["license"], top["stars"], top["size_kb"], top["source"]) == ("MIT", 50, 100, "github")
    assert top["clone_url"] == "https://github.com/b/high.git"


def test_query_carries_every_qualifier():
    q = build_query(SearchConfig(language="GDScript", min_stars=10, pushed_after="2023-01-01",
                                 created_before="2022-12-31", topic="godot", query="platformer"), "mit")
    assert q == ("platformer language:GDScript license:mit stars:>=10 pushed:>=2023-01-01 "
                 "created:*..2022-12-31 topic:godot")


def test_each_license_is_searched_and_results_merged(github):
    server = github([make_repo("a/mit", stars=3), make_repo("b/apache", stars=9, license="apache-2.0"),
                     make_repo("c/gpl", stars=99, license="gpl-3.0")])
    results = search_repos(cfg(server, licenses=["mit", "apache-2.0"]))
    assert [r["full_name"] for r in results] == ["b/apache", "a/mit"]


def test_non_permissive_license_is_refused_before_any_request(github):
    server = github([])
    with pytest.raises(GitHubError, match="gpl-3.0 is not in the permissive list"):
        search_repos(cfg(server, licenses=["gpl-3.0"]))
    assert server.queries == []


def test_pages_are_followed_up_to_the_limit(github):
    server = github([make_repo(f"o/r{i:03d}", stars=i) for i in range(250)])
    results = search_repos(cfg(server, limit=230))
    assert len(results) == 230
    assert results[0]["full_name"] == "o/r249"
    assert len(server.queries) == 3  # pages of 100


def test_date_windows_reach_past_the_1000_result_cap(github):
    start = date(2015, 1, 1)
    repos = [make_repo(f"o/r{i:04d}", stars=i % 50, created=(start + timedelta(days=i)).isoformat())
             for i in range(2500)]
    server = github(repos)
    results = search_repos(cfg(server, limit=5000, created_after="2015-01-01", created_before="2022-12-31"))
    assert len(results) == 2500
    assert len({r["full_name"] for r in results}) == 2500
    assert any("created:2015-01-01.." in q for q in server.queries)


def test_repos_already_curated_are_skipped(github):
    server = github([make_repo("a/old", stars=9), make_repo("b/new", stars=1)])
    results = search_repos(cfg(server), skip_urls={"https://github.com/a/old"})
    assert [r["full_name"] for r in results] == ["b/new"]


def test_rate_limit_is_waited_out_and_reported(github):
    server = github([make_repo("a/x")])
    server.rate_limited, server.reset_in = 1, 1
    waits = []
    t0 = time.monotonic()
    results = search_repos(cfg(server), on_wait=lambda s, msg: waits.append((s, msg)))
    assert [r["full_name"] for r in results] == ["a/x"]
    assert len(waits) == 1 and "rate limited" in waits[0][1]
    assert 0 < waits[0][0] <= 3 and time.monotonic() - t0 >= 0.9


def test_rate_limit_longer_than_allowed_gives_a_clear_error(github):
    server = github([make_repo("a/x")])
    server.rate_limited, server.reset_in = 1, 3600
    with pytest.raises(GitHubError, match="rate limit reached; it resets in 60 min"):
        search_repos(cfg(server, max_wait_s=5))


def test_bad_query_422_is_a_clear_error(github):
    server = github([make_repo("a/x")])
    with pytest.raises(GitHubError, match="GitHub rejected the query .*Validation Failed.*not valid"):
        search_repos(cfg(server, query="bogus:thing"))


def test_repo_info_of_an_existing_repo(github):
    server = github([make_repo("a/x", stars=7, topics=("godot",))])
    info = get_repo_info("a/x", api_url=server.url, token_env="CURATE_TEST_NO_TOKEN")
    assert (info["full_name"], info["stars"], info["topics"]) == ("a/x", 7, ["godot"])


def test_repo_that_no_longer_exists_is_a_clear_error(github):
    server = github([])
    with pytest.raises(GitHubError, match="gone/away does not exist on GitHub \\(404\\)"):
        get_repo_info("gone/away", api_url=server.url, token_env="CURATE_TEST_NO_TOKEN")


def test_repo_name_with_dotdot_is_refused_without_a_request(github):
    server = github([])
    with pytest.raises(StudioError, match="refusing repo name"):
        get_repo_info("../etc", api_url=server.url)
    assert server.auth_headers == []


def test_token_is_sent_from_env_and_never_in_results(github, monkeypatch):
    server = github([make_repo("a/x")])
    monkeypatch.setenv("CURATE_TEST_TOKEN", "ghp_secret_value")
    results = search_repos(SearchConfig(language="GDScript", api_url=server.url, token_env="CURATE_TEST_TOKEN"))
    assert server.auth_headers and all("ghp_secret_value" in h for h in server.auth_headers)
    assert "ghp_secret_value" not in repr(results)


def test_anonymous_when_the_token_variable_is_unset(github):
    server = github([make_repo("a/x")])
    search_repos(cfg(server))
    assert server.auth_headers == [None]


def test_api_url_defaults_to_the_github_api_url_variable(github, monkeypatch):
    server = github([make_repo("a/x")])
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    cfg = SearchConfig(language="GDScript", token_env="CURATE_TEST_NO_TOKEN")
    assert cfg.api_url == server.url
    assert [r["full_name"] for r in search_repos(cfg)] == ["a/x"]


def test_cli_search_adds_results_and_skips_them_next_time(github, store, capsys):
    from pipeline.__main__ import main as cli

    server = github([make_repo("a/x", stars=4), make_repo("b/y", stars=2)])
    args = ["curate", "search", "--language", "GDScript", "--api-url", server.url,
            "--token-env", "CURATE_TEST_NO_TOKEN"]
    assert cli(args + ["--add"]) == 0
    out = capsys.readouterr().out
    assert "a/x" in out and "added 2 repos" in out
    assert cli(args) == 0
    assert "0 repos (already curated ones left out)" in capsys.readouterr().out
    assert cli(["curate", "add", "gone/away", "--api-url", server.url]) == 2
    assert "does not exist on GitHub (404)" in capsys.readouterr().err
