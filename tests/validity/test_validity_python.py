"""Python validity: the parse level must agree with the real py_compile; refs use pyflakes."""
import json
import py_compile
from pathlib import Path

import pytest

from evals.validity import check

SNIPPETS = [json.loads(line) for line in
            (Path(__file__).parents[1] / "data" / "python_validity.jsonl").read_text().splitlines()]


def _py_compile_accepts(code: str, tmp_path: Path) -> bool:
    path = tmp_path / "snippet.py"
    path.write_bytes(code.encode("utf-8"))
    try:
        py_compile.compile(str(path), cfile=str(tmp_path / "snippet.pyc"), doraise=True)
    except py_compile.PyCompileError:
        return False
    return True


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s["id"] for s in SNIPPETS])
def test_parse_level_agrees_with_py_compile(snippet, tmp_path):
    expected = _py_compile_accepts(snippet["code"], tmp_path)
    assert check(snippet["code"], "python", levels=("parse",)).valid == expected


def test_corpus_has_both_valid_and_invalid_snippets(tmp_path):
    verdicts = {_py_compile_accepts(s["code"], tmp_path) for s in SNIPPETS}
    assert verdicts == {True, False}


def test_syntax_error_line_matches_the_compiler():
    finding = check("x = 1\ny = (\nz = 3\n", "python").errors[0]
    assert finding.rule_id == "py-syntax-error" and finding.line in (2, 3)


def test_return_outside_function_is_invalid_although_ast_parses_it():
    assert not check("return 1\n", "python").valid


def test_undefined_name_is_reported_by_refs():
    finding = check("def f():\n    return helper(1)\n", "python").errors[0]
    assert (finding.rule_id, finding.line, finding.level) == ("py-undefined-name", 2, "refs")


def test_builtins_and_imports_are_not_undefined():
    code = "import os\n\ndef f(xs):\n    return len(xs), os.sep, sorted(set(xs)), __name__\n"
    assert check(code, "python").findings == ()


def test_unused_import_is_lint_info_only():
    result = check("import os\n", "python", levels=("parse", "refs", "lint"))
    assert result.valid and {f.rule_id for f in result.findings} == {"pyflakes-UnusedImport"}


def test_compile_level_runs_py_compile():
    result = check("def f(:\n    pass\n", "python", levels=("compile",))
    assert [f.rule_id for f in result.findings] == ["py-compile-error"]
