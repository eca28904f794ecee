"""Fetching real git repos made by the test (through file:// URLs) and local folders."""
from __future__ import annotations

import os

import pytest

from pipeline.curate.fetch import FetchError, check_full_name, delete_clone, fetch_repo, local_source
from tests.curate_repos import GAME_REPO, file_url, git, make_repo


def github_row(url: str, full_name: str = "owner/game", **kw) -> dict:
    return {"source": "github", "full_name": full_name, "url": f"https://github.com/{full_name}",
            "clone_url": url, **kw}


@pytest.fixture
def game(tmp_path):
    return make_repo(tmp_path / "src" / "game", GAME_REPO)


def test_shallow_fetch_records_the_commit(tmp_path, game):
    checkout = fetch_repo(github_row(file_url(game)), tmp_path / "clones")
    assert checkout.commit_sha == git(game, "rev-parse", "HEAD")
    assert checkout.path == tmp_path / "clones" / "owner__game"
    assert (checkout.path / "player.gd").exists() and checkout.cloned
    assert git(checkout.path, "rev-list", "--count", "HEAD") == "1"


def test_recorded_commit_is_fetched_even_after_new_commits(tmp_path, game):
    pinned = git(game, "rev-parse", "HEAD~1")
    (game / "later.py").write_text("def later():\n    return 1\n")
    git(game, "add", "later.py")
    git(game, "commit", "-qm", "Add a later file")
    checkout = fetch_repo(github_row(file_url(game), commit_sha=pinned), tmp_path / "clones")
    assert checkout.commit_sha == pinned
    assert not (checkout.path / "later.py").exists()


def test_deeper_fetch_brings_history_for_mining(tmp_path, game):
    checkout = fetch_repo(github_row(file_url(game)), tmp_path / "clones", depth=10)
    assert git(checkout.path, "rev-list", "--count", "HEAD") == "4"


def test_repo_that_no_longer_exists_gives_a_clear_error_and_no_folder(tmp_path):
    with pytest.raises(FetchError, match="was not found: the repository no longer exists"):
        fetch_repo(github_row(file_url(tmp_path / "gone.git")), tmp_path / "clones")
    assert not (tmp_path / "clones" / "owner__game").exists()


def test_clone_that_breaks_off_half_way_leaves_nothing_behind(tmp_path, game):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(game), str(bare))
    blob = git(bare, "rev-parse", "HEAD:player.gd")
    (bare / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(FetchError, match="broke off half way"):
        fetch_repo(github_row(file_url(bare)), tmp_path / "clones")
    assert not (tmp_path / "clones" / "owner__game").exists()


def test_two_gigabyte_repo_is_refused_before_cloning(tmp_path, game):
    with pytest.raises(FetchError, match="is 2000 MB on GitHub, over the 500 MB limit; not cloned"):
        fetch_repo(github_row(file_url(game), size_kb=2000 * 1024), tmp_path / "clones", max_repo_mb=500)
    assert not (tmp_path / "clones").exists()


def test_size_limit_is_enforced_on_the_download_itself(tmp_path):
    big = make_repo(tmp_path / "big", [("Add a big blob of data", {"data.bin": os.urandom(3 * 2**20)})])
    with pytest.raises(FetchError, match="over the 1 MB limit"):
        fetch_repo(github_row(file_url(big)), tmp_path / "clones", max_repo_mb=1)
    assert not (tmp_path / "clones" / "owner__game").exists()


def test_file_count_limit(tmp_path):
    many = make_repo(tmp_path / "many", [("Add many small files", {f"f{i}.py": f"x = {i}\n" for i in range(30)})])
    with pytest.raises(FetchError, match="has 30 files, over the 10 file limit"):
        fetch_repo(github_row(file_url(many)), tmp_path / "clones", max_files=10)


def test_local_git_repo_is_cloned_through_file_url(tmp_path, game):
    row = local_source(str(game))
    assert (row["source"], row["full_name"], row["clone_url"]) == ("local", "local/game", file_url(game))
    checkout = fetch_repo(row, tmp_path / "clones")
    assert checkout.cloned and checkout.commit_sha == git(game, "rev-parse", "HEAD")


def test_local_folder_is_read_in_place_and_never_deleted(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("def a():\n    return 1\n")
    row = local_source(str(folder))
    checkout = fetch_repo(row, tmp_path / "clones")
    assert (checkout.path, checkout.cloned, checkout.commit_sha) == (folder, False, None)
    assert delete_clone(checkout.path, tmp_path / "clones") is False
    assert (folder / "a.py").exists()


def test_local_path_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(FetchError, match="does not exist"):
        local_source(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("name", ["../etc", "owner/..", "a/b/c", "owner", "own er/x"])
def test_repo_names_that_could_escape_the_clones_dir_are_refused(name):
    with pytest.raises(FetchError, match="refusing repo name"):
        check_full_name(name)
