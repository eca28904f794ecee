"""`python -m pipeline pairs …`: every action through the real CLI entry point."""
from __future__ import annotations

import json

import pytest

from pipeline.__main__ import main, make_parser
from tests.pairs_helpers import add_pairs


@pytest.fixture
def pairs(store):
    return add_pairs(store, [
        {"instruction": "Reverse a list", "output": "def rev(xs):\n    return xs[::-1]\n", "language": "python"},
        {"instruction": "Move the player", "output": "func move():\n\tposition.x += 1\n", "language": "gdscript"},
        {"instruction": "Move the player again", "output": "func move():\n\tposition.x += 1\n", "language": "gdscript"},
    ])


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_pairs_action_has_help():
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["pairs"]
    actions = next(a for a in sub._actions if a.dest == "pairs_command")
    assert set(actions.choices) == {"list", "show", "edit", "approve", "reject", "bulk", "stats", "clean",
                                    "import", "freeze", "export", "datasets", "messages"}
    for name, p in actions.choices.items():
        assert actions._choices_actions and all(c.help for c in actions._choices_actions)
        for arg in p._actions:
            if arg.dest != "help":
                assert arg.help, f"pairs {name} {arg.dest} has no help"


def test_list_with_filter_and_search(capsys, pairs):
    code, out, _ = run(capsys, "pairs", "list", "--language", "gdscript", "--search", "again")
    assert code == 0 and out.startswith("1 pairs · page 1/1")
    assert "Move the player again" in out and "Reverse" not in out


def test_show_edit_and_history(capsys, store, pairs):
    code, out, _ = run(capsys, "pairs", "edit", str(pairs[0]), "--field", "instruction", "--value", "Reverse the list")
    assert code == 0 and "saved (revision 1)" in out
    code, out, _ = run(capsys, "pairs", "show", str(pairs[0]))
    assert "-Reverse a list\n+Reverse the list" in out and "instruction edited" in out


def test_edit_with_a_stale_revision_is_an_error(capsys, store, pairs):
    store.edit_pair(pairs[0], {"input": "[1, 2]"}, revision=0)
    code, _, err = run(capsys, "pairs", "edit", str(pairs[0]), "--field", "output", "--value", "x", "--revision", "0")
    assert code == 2 and err.startswith(f"error: pair {pairs[0]} changed since revision 0")


def test_approve_reject_and_bulk(capsys, store, pairs):
    assert run(capsys, "pairs", "approve", str(pairs[0]))[0] == 0
    assert run(capsys, "pairs", "reject", str(pairs[1]))[0] == 0
    code, out, _ = run(capsys, "pairs", "bulk", "approve", "--language", "gdscript", "--dry-run")
    assert "2 pairs match" in out and store.get_pair(pairs[2])["status"] == "draft"
    code, out, _ = run(capsys, "pairs", "bulk", "approve", "--language", "gdscript", "--status", "draft")
    assert code == 0 and out.startswith("1 pairs now approved")
    code, out, _ = run(capsys, "pairs", "stats")
    assert "status     approved=2  rejected=1" in out


def test_clean_then_unflag(capsys, store, pairs):
    code, out, _ = run(capsys, "pairs", "clean", "--no-decontam", "--no-filters")
    summary = json.loads(out)
    assert code == 0 and summary["duplicates"] == 1 and summary["scanned"] == 3
    assert store.count_pairs({"flag": "duplicate"}) == 1
    code, out, _ = run(capsys, "pairs", "clean", "--unflag", "all")
    assert out.startswith("2 pairs unflagged") and store.count_pairs({"flag": "flagged"}) == 0


def test_bad_clean_settings_are_one_line_errors(capsys, pairs):
    code, _, err = run(capsys, "pairs", "clean", "--decontam-mode", "fuzzy")
    assert code == 2 and err == "error: decontam_mode must be one of substring, ngram, both, got 'fuzzy'\n"


def test_import_preview_and_mapping(capsys, store, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("todo,code\nDouble it,x * 2\n", encoding="utf-8")
    code, out, _ = run(capsys, "pairs", "import", str(path), "--preview")
    assert "columns: todo, code" in out and '"output": "code"' in out
    code, _, err = run(capsys, "pairs", "import", str(path))
    assert code == 2 and "no instruction column: columns found: todo, code" in err
    code, out, _ = run(capsys, "pairs", "import", str(path), "--instruction", "todo", "--default-language", "python")
    assert code == 0 and out.startswith("1 imported")
    assert store.query_pairs({"language": "python"})["total"] == 1


def test_freeze_export_and_list_datasets(capsys, store, pairs, tmp_path):
    code, out, _ = run(capsys, "pairs", "freeze", "games", "--language", "gdscript", "--template", "octopack")
    assert code == 0 and out.startswith("froze games@1: 2 pairs, template octopack")
    target = tmp_path / "games.jsonl"
    code, out, _ = run(capsys, "pairs", "export", "games", "--form", "messages", "--out", str(target))
    assert json.loads(out)["rows"] == 2 and len(target.read_text().splitlines()) == 2
    code, out, _ = run(capsys, "pairs", "datasets")
    assert out.startswith("games@1") and "octopack" in out
    code, _, err = run(capsys, "pairs", "export", "ghost")
    assert code == 2 and "no dataset 'ghost'" in err
