"""Judge suites: the built-in suite's shape, and bad files refused with every problem named and
nothing stored."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from evals.judge.suites import (
    BUILTIN_NAME,
    BUILTIN_PATH,
    SuiteFileError,
    ensure_builtin_suite,
    import_judge_suite,
    load_suite_file,
    save_judge_suite,
)


def test_builtin_suite_has_50_plus_items_over_the_categories_with_references():
    items = load_suite_file(BUILTIN_PATH)
    cats = Counter(i["category"] for i in items)
    assert len(items) >= 50 and len({i["id"] for i in items}) == len(items)
    assert set(cats) == {"write-function", "fix-bug", "explain-code", "refactor", "write-test", "gdscript-godot4"}
    assert cats["gdscript-godot4"] >= 10 and sum(1 for i in items if i.get("reference")) >= 30


def test_builtin_gdscript_references_are_valid_godot_4():
    from evals.validity import check

    items = load_suite_file(BUILTIN_PATH)
    refs = [i for i in items if i["category"] == "gdscript-godot4" and i.get("reference")]
    bad = {i["id"]: [f.message for f in check(i["reference"], "gdscript", "4").findings if f.severity == "error"]
           for i in refs}
    assert {k: v for k, v in bad.items() if v} == {}


def test_builtin_suite_is_stored_once(store):
    first = ensure_builtin_suite(store)
    assert ensure_builtin_suite(store)["id"] == first["id"] and first["name"] == BUILTIN_NAME


def test_missing_fields_are_all_named_by_line_and_nothing_is_stored(store, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "a", "category": "fix-bug", "instruction": "Fix it"}),
        json.dumps({"id": "b", "instruction": "No category"}),
        json.dumps({"category": "refactor", "instruction": "No id"}),
        json.dumps({"id": "a", "category": "fix-bug", "instruction": "Same id"}),
    ]) + "\n")
    with pytest.raises(SuiteFileError) as err:
        import_judge_suite(store, "bad", path)
    text = str(err.value)
    assert "line 2: missing 'category'" in text and "line 3: missing 'id'" in text
    assert "line 4: id 'a' repeats line 1" in text and "nothing was stored" in text
    assert store.list_judge_suites() == []


def test_a_line_that_is_not_json_is_named(store, tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "a", "category": "x", "instruction": "y"}\n{"id": "b", \n')
    with pytest.raises(SuiteFileError, match="line 2: not JSON"):
        import_judge_suite(store, "broken", path)


def test_a_suite_written_in_the_ui_table_skips_blank_rows(store):
    rows = [{"id": "q1", "category": "fix-bug", "language": "python", "instruction": "Fix x", "reference": ""},
            {"id": "", "category": "", "language": "", "instruction": "", "reference": ""}]
    saved = save_judge_suite(store, "mine", rows)
    assert saved["items"] == 1 and store.judge_items("mine")[0]["reference"] is None


def test_cli_import_of_a_bad_file_prints_one_error_line(studio_home, tmp_path, capsys):
    from evals.__main__ import main

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "a", "category": "fix-bug"}) + "\n")
    assert main(["judge", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "line 1: missing 'instruction'" in err and "Traceback" not in err


def test_a_limit_takes_items_across_the_categories_in_suite_order():
    from evals.judge.run import spread

    items = [{"id": f"{c}{i}", "category": c} for c in "abc" for i in range(3)]
    assert [i["id"] for i in spread(items, 4)] == ["a0", "a1", "b0", "c0"]
    assert [i["id"] for i in spread(items, 9)] == [i["id"] for i in items]
    assert spread(items[:2], 5) == items[:2] and spread([], 3) == []
