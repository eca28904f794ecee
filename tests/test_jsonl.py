"""pipeline/jsonl.py is the one JSON Lines reader: files, text already in memory (a Batch API
result file), all-or-nothing or line by line, each problem naming its line."""
from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest

from pipeline.jsonl import JsonlError, iter_jsonl, parse_lines, read_jsonl

ROOT = Path(__file__).resolve().parent.parent


def test_parse_lines_names_each_line_and_says_what_is_wrong():
    lines = ['{"a": 1}', "", "[1, 2]", '{"b": ', '"text"']
    assert list(parse_lines(lines, "x.jsonl")) == [
        ("x.jsonl line 1", {"a": 1}, None),
        ("x.jsonl line 3", None, "expected a JSON object, got list"),
        ("x.jsonl line 4", None, "not valid JSON (Expecting value)"),
        ("x.jsonl line 5", None, "expected a JSON object, got str"),
    ]


def test_parse_lines_can_take_any_json_value_and_its_own_wording():
    got = list(parse_lines(["[1]", "{", "3"], objects_only=False, not_json="not JSON"))
    assert got == [("line 1", [1], None), ("line 2", None, "not JSON (Expecting property name enclosed in "
                                                             "double quotes)"), ("line 3", 3, None)]


def test_files_plain_and_gzipped_read_the_same(tmp_path):
    rows = [{"id": 1}, {"id": 2}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    (tmp_path / "a.jsonl").write_text(text)
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as fh:
        fh.write(text)
    assert read_jsonl(tmp_path / "a.jsonl") == read_jsonl(tmp_path / "a.jsonl.gz") == rows
    assert [w for w, _, _ in iter_jsonl(tmp_path / "a.jsonl.gz")] == ["a.jsonl.gz line 1", "a.jsonl.gz line 2"]


def test_all_or_nothing_names_the_first_bad_line_and_an_empty_file(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"id": 1}\nnope\n')
    with pytest.raises(JsonlError, match=r"b.jsonl line 2: not valid JSON"):
        read_jsonl(tmp_path / "b.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(JsonlError, match="empty.jsonl has no records"):
        read_jsonl(tmp_path / "empty.jsonl")
    assert read_jsonl(tmp_path / "empty.jsonl", allow_empty=True) == []


def test_training_files_are_read_by_it_and_fail_as_a_train_error(tmp_path):
    from pipeline.train import TrainError
    from pipeline.train.data import read_jsonl as read_training_file
    from pipeline.train.data import write_jsonl

    write_jsonl(tmp_path / "train.jsonl", [{"prompt": "p", "completion": "c", "extra": 1}])
    assert read_training_file(tmp_path / "train.jsonl") == [{"prompt": "p", "completion": "c"}]
    (tmp_path / "bad.jsonl").write_text("{\n")
    with pytest.raises(TrainError, match="bad.jsonl line 1"):
        read_training_file(tmp_path / "bad.jsonl")


def test_no_module_parses_json_lines_on_its_own():
    """`json.loads(line)` lives in pipeline/jsonl.py. Pairs import keeps its streaming reader (see
    jsonl.py's docstring); the sandbox's pipe protocol is one JSON message per line, not a file."""
    allowed = {"pipeline/jsonl.py", "pipeline/pairs/readers.py", "evals/sandbox/worker.py",
               "evals/sandbox/__init__.py"}
    found = []
    for path in sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "evals").rglob("*.py")]):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "loads"
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "line"
                    and rel not in allowed):
                found.append(f"{rel}:{node.lineno}")
    assert found == []
