"""The curate job end to end on real git repos: per-repo failures, idempotence, clones, CLI."""
from __future__ import annotations

from dataclasses import asdict

import pytest

from pipeline import jobs
from pipeline.__main__ import main as cli
from pipeline.curate.job import CurateConfig, add_local_repo
from pipeline.errors import StudioError
from tests.curate_repos import GAME_REPO, file_url, git, make_repo


def run_job(store, **cfg) -> dict:
    job_id = store.create_job("curate", asdict(CurateConfig(**cfg)))
    assert jobs.run(job_id, store) == "done", store.get_job(job_id)["error"]
    return store.get_job(job_id)


def github_repo(store, name: str, clone_url: str, **kw) -> int:
    (rid,), _ = store.add_repos([{"source": "github", "full_name": name, "url": f"https://github.com/{name}",
                                  "clone_url": clone_url, "license": "MIT", **kw}])
    return rid


@pytest.fixture
def game(tmp_path):
    return make_repo(tmp_path / "src" / "game", GAME_REPO)


def test_one_failing_repo_never_stops_the_others(store, game, tmp_path):
    good = github_repo(store, "owner/game", file_url(game))
    gone = github_repo(store, "owner/gone", file_url(tmp_path / "gone.git"))
    huge = github_repo(store, "owner/huge", file_url(game), size_kb=2 * 1024 * 1024)
    job = run_job(store, min_lines=1)
    assert job["result"]["curated"] == 1 and len(job["result"]["failed"]) == 2
    assert store.get_repo(good)["status"] == "extracted"
    assert "no longer exists" in store.get_repo(gone)["error"]
    assert "over the 500 MB limit; not cloned" in store.get_repo(huge)["error"]
    assert {store.get_repo(r)["status"] for r in (gone, huge)} == {"failed"}


def test_extraction_records_stats_engine_version_and_commit(store, game):
    rid = github_repo(store, "owner/game", file_url(game))
    run_job(store, min_lines=1)
    repo = store.get_repo(rid)
    assert repo["engine_version"] == "Godot 4.x"
    assert repo["commit_sha"] == git(game, "rev-parse", "HEAD")
    assert repo["stats"]["files"] == 2 and repo["stats"]["functions"] == 1
    rows, total = store.list_snippets(repo_id=rid)
    assert total == 1 and rows[0]["qualname"] == "jump" and rows[0]["language"] == "gdscript"


def test_running_again_adds_nothing_twice(store, game):
    github_repo(store, "owner/game", file_url(game))
    first = run_job(store, min_lines=1, mine=True, min_tokens=1)
    second = run_job(store, min_lines=1, mine=True, min_tokens=1)
    assert first["result"]["commit_pairs"] == 1 and second["result"]["commit_pairs"] == 0
    assert store.list_snippets()[1] == 1
    assert store.curate_summary()["commit_pairs"] == 1


def test_clones_are_deleted_after_extraction_unless_kept(store, game, studio_home):
    dropped = github_repo(store, "owner/game", file_url(game))
    run_job(store, min_lines=1)
    assert store.get_repo(dropped)["local_path"] is None
    assert not (studio_home / "clones" / "owner__game").exists()
    kept = github_repo(store, "owner/kept", file_url(game))
    run_job(store, min_lines=1, keep_clones=True, repo_ids=[kept])
    assert (studio_home / "clones" / "owner__kept" / "player.gd").exists()


def test_fetch_then_extract_as_separate_steps(store, game):
    rid = github_repo(store, "owner/game", file_url(game))
    run_job(store, extract=False, keep_clones=True)
    assert store.get_repo(rid)["status"] == "fetched" and store.list_snippets()[1] == 0
    run_job(store, fetch=False, min_lines=1)
    assert store.get_repo(rid)["status"] == "extracted" and store.list_snippets()[1] == 1


def test_local_folder_with_subdir_keeps_paths_relative_to_the_folder(store, tmp_path):
    folder = tmp_path / "mygame"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "enemy.gd").write_text("func hit():\n\thp -= 1\n\treturn hp\n")
    (folder / "other.py").write_text("def skip_me():\n    a = 1\n    return a\n")
    (folder / "project.godot").write_text("config_version=4\n")
    rid = add_local_repo(store, str(folder), subdir="scripts")
    run_job(store)
    rows, total = store.list_snippets(repo_id=rid)
    assert total == 1 and rows[0]["path"] == "scripts/enemy.gd"
    assert store.get_repo(rid)["engine_version"] == "Godot 3.x"
    assert (folder / "scripts" / "enemy.gd").exists()


def test_subdir_with_dotdot_is_refused_and_nothing_is_added(store, tmp_path):
    (tmp_path / "proj").mkdir()
    with pytest.raises(StudioError, match="refusing path '../secrets'"):
        add_local_repo(store, str(tmp_path / "proj"), subdir="../secrets")
    assert store.list_repos() == []


def test_bad_settings_fail_the_job_with_a_clear_error(store):
    job_id = store.create_job("curate", {"languages": ["cobol"]})
    assert jobs.run(job_id, store) == "failed"
    assert "unknown languages ['cobol']" in store.get_job(job_id)["error"]


@pytest.mark.slow
def test_curate_job_runs_as_a_real_child_process(store, game):
    rid = github_repo(store, "owner/game", file_url(game))
    job_id = jobs.submit(store, "curate", asdict(CurateConfig(min_lines=1, mine=True, min_tokens=1)))
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "done", job["error"]
    assert job["total"] == 1 and job["done"] == 1
    assert store.get_repo(rid)["status"] == "extracted" and store.curate_summary()["commit_pairs"] == 1


@pytest.mark.slow
def test_cli_add_local_run_repos_and_snippets(store, game, capsys):
    assert cli(["curate", "add-local", str(game)]) == 0
    assert cli(["curate", "run", "--min-lines", "1", "--mine", "--min-tokens", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 curated, 1 snippets, 1 commit pairs" in out
    assert cli(["curate", "repos"]) == 0
    assert "Godot 4.x  local/game" in capsys.readouterr().out
    assert cli(["curate", "snippets", "--language", "gdscript"]) == 0
    assert "local/game:player.gd:3 jump" in capsys.readouterr().out
    assert cli(["curate", "snippet", "1"]) == 0
    assert "func jump(force):" in capsys.readouterr().out


def test_cli_bad_input_is_one_clear_line(store, tmp_path, capsys):
    assert cli(["curate", "add-local", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli(["curate", "search", "--language", "GDScript", "--licenses", "gpl-3.0"]) == 2
    assert "not in the permissive list" in capsys.readouterr().err
