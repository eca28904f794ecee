"""CommitPackFT filters (data) and mining pairs from the history of real git repos."""
from __future__ import annotations

import pytest

from pipeline.curate.commit_filters import FILTER_NAMES, IMPERATIVE_VERBS, clean_subject, rejection
from pipeline.curate.commits import mine_commits
from tests.curate_repos import GAME_REPO, PLAYER_V1, PLAYER_V2, file_url, git, make_repo


@pytest.mark.parametrize("subject, expected", [
    ("Fix double jump when the player is in the air", None),
    ("Clean up the inventory slot handling code", None),
    ("fix it", "length"),
    ("Fix the jump", "words"),
    ("Fixed the jump when in the air", "imperative"),
    ("The player now jumps higher than before", "imperative"),
    ("Merge branch 'dev' into main for release", "merge"),
    ("Add WIP version of the inventory screen", "wip"),
    ("Bump version number to the next minor", "bump"),
    ("Add Signed-off-by line to the template", "signed-off"),
    ("Add link to https://example.com in the docs", "url"),
    ("Fix crash on empty save files #123", "issue-ref"),
    ("Fix crash on empty save files, GH-12", "issue-ref"),
    ("Fix JIRA-42 crash on empty save files", "issue-ref"),
    ("Update player.gd with the new movement code", "names-file"),
])
def test_message_filters(subject, expected):
    assert rejection(subject, "scripts/player.gd") == expected


def test_length_bounds_are_10_to_1000_characters():
    assert rejection("Add " + "word " * 250, "x.py") == "length"
    assert rejection("Add a b c", "x.py") == "length"  # 9 characters


def test_filters_can_be_turned_off_by_name():
    assert rejection("Update player.gd with the new movement code", "player.gd", ["names-file"]) is None
    with pytest.raises(ValueError, match="unknown commit filters"):
        rejection("Fix it", "x.py", ["nope"])


def test_clean_subject_drops_tags_and_scopes():
    assert clean_subject("[player] Fix double jump in the air [skip ci]") == "Fix double jump in the air"
    assert clean_subject("player: Fix double jump in the air") == "Fix double jump in the air"


def test_verb_list_and_filter_names_are_data():
    assert {"add", "fix", "remove", "refactor", "rename"} <= IMPERATIVE_VERBS
    assert "added" not in IMPERATIVE_VERBS
    assert FILTER_NAMES[:3] == ("length", "words", "imperative")


def test_mining_keeps_only_single_file_commits_with_good_messages(tmp_path):
    repo = make_repo(tmp_path / "game", GAME_REPO)
    pairs, stats = mine_commits(repo, min_tokens=1)
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["instruction"] == "Fix double jump when the player is in the air"
    assert (pair["input"], pair["output"]) == (PLAYER_V1, PLAYER_V2)
    assert (pair["path"], pair["language"]) == ("player.gd", "gdscript")
    assert pair["commit_sha"] == git(repo, "rev-parse", "HEAD~2")
    assert stats["changes more than one file"] == 1 and stats["message: merge"] == 1
    assert stats["no parent (first or shallow-boundary commit)"] == 1 and stats["commits"] == 4


def test_function_granularity_pairs_the_changed_function(tmp_path):
    repo = make_repo(tmp_path / "game", GAME_REPO)
    pairs, _ = mine_commits(repo, min_tokens=1, granularity="function")
    assert [p["instruction"] for p in pairs] == ["Fix double jump when the player is in the air"]
    assert pairs[0]["input"].startswith("func jump(force):\n\tvelocity.y")
    assert pairs[0]["output"].startswith("func jump(force):\n\tif not is_on_floor()")
    assert "extends Node" not in pairs[0]["output"]


def test_token_bounds_drop_pairs_outside_them(tmp_path):
    repo = make_repo(tmp_path / "game", GAME_REPO)
    pairs, stats = mine_commits(repo, min_tokens=1, max_tokens=10)
    assert pairs == [] and stats["outside token bounds"] == 1


def test_added_files_and_non_code_files_are_not_pairs(tmp_path):
    repo = make_repo(tmp_path / "r", [
        ("Add the first module of the game", {"a.py": "def a():\n    return 1\n"}),
        ("Add a second module for the menus", {"b.py": "def b():\n    return 2\n"}),
        ("Change the readme text for players", {"README.md": "hello\n"}),
        ("Change the readme text for players again", {"README.md": "hello again\n"}),
    ])
    pairs, stats = mine_commits(repo, min_tokens=1)
    assert pairs == []
    assert stats["file added or deleted"] == 2 and stats["not a code file"] == 1


def test_shallow_clone_boundary_commit_is_skipped(tmp_path):
    repo = make_repo(tmp_path / "game", GAME_REPO)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "3", file_url(repo), str(shallow))
    pairs, stats = mine_commits(shallow, min_tokens=1)
    assert pairs == [] and stats["no parent (first or shallow-boundary commit)"] == 1


def test_unknown_granularity_is_refused(tmp_path):
    with pytest.raises(ValueError, match="granularity"):
        mine_commits(tmp_path, granularity="line")
