"""The generic tree-sitter parse check, for every language in its table."""
import pytest

from evals.validity import check
from evals.validity.treesitter import LANGUAGES, installed_languages, parse_errors

VALID = {
    "python": "def f(x):\n    return x + 1\n",
    "gdscript": "func f(x):\n\treturn x + 1\n",
    "javascript": "function f(x) {\n  return x + 1;\n}\n",
    "typescript": "function f(x: number): number {\n  return x + 1;\n}\n",
    "tsx": "const A = () => <div>{1}</div>;\n",
    "go": "package main\n\nfunc f(x int) int {\n\treturn x + 1\n}\n",
    "rust": "fn f(x: i32) -> i32 {\n    x + 1\n}\n",
    "java": "class A {\n    int f(int x) { return x + 1; }\n}\n",
    "c": "int f(int x) {\n    return x + 1;\n}\n",
    "cpp": "int f(int x) {\n    return x + 1;\n}\n",
    "lua": "local function f(x)\n  return x + 1\nend\n",
}
BROKEN = {
    "python": "def f(x):\n    return (x + 1\n",
    "gdscript": "func f(x):\n\treturn (x + 1\n",
    "javascript": "function f(x) {\n  return x + ;\n}\n",
    "typescript": "function f(x: number {\n  return x;\n}\n",
    "tsx": "const A = () => <div>{1</div>;\n",
    "go": "package main\n\nfunc f(x int) int {\n\treturn x +\n}\n",
    "rust": "fn f(x: i32) -> i32 {\n    let = x;\n}\n",
    "java": "class A {\n    int f(int x) { return x + ; }\n}\n",
    "c": "int f(int x) {\n    return x + ;\n}\n",
    "cpp": "int f(int x) {\n    return x + ;\n}\n",
    "lua": "local function f(x)\n  return x +\n",
}


def test_every_table_row_has_an_installed_grammar():
    assert installed_languages() == list(LANGUAGES)


@pytest.mark.parametrize("language", sorted(VALID))
def test_valid_code_has_no_parse_errors(language):
    assert parse_errors(VALID[language], language) == []


@pytest.mark.parametrize("language", sorted(BROKEN))
def test_broken_code_has_a_parse_error_with_a_line(language):
    findings = parse_errors(BROKEN[language], language)
    assert findings and all(f.line >= 1 and f.rule_id in ("ts-error", "ts-missing") for f in findings)


def test_check_uses_tree_sitter_for_languages_without_a_dedicated_checker():
    result = check(BROKEN["rust"], "rust")
    assert not result.valid and result.errors[0].level == "parse"


def test_language_aliases_resolve():
    assert check(VALID["javascript"], "js").language == "javascript"
