"""The compile level with real toolchains (skipped only where a toolchain is absent)."""
import shutil

import pytest

from evals.validity import check, check_many, compilers

needs = lambda exe: pytest.mark.skipif(shutil.which(exe) is None, reason=f"{exe} not installed")


@needs("node")
def test_node_check_rejects_broken_javascript():
    findings = compilers.compile_check("let a = 1;\nlet = ;\nlet b = 2;\n", "javascript")
    assert findings[0].rule_id == "compile-javascript" and findings[0].line == 2


@needs("node")
def test_node_check_accepts_valid_javascript():
    assert compilers.compile_check("const f = (x) => x + 1;\n", "javascript") == []


@needs("g++")
def test_gpp_syntax_only_reports_a_type_error_tree_sitter_cannot_see():
    code = "int f() {\n    int x = \"text\";\n    return x;\n}\n"
    assert check(code, "cpp").valid and not check(code, "cpp", levels=("parse", "compile")).valid


@needs("gcc")
def test_gcc_accepts_valid_c():
    assert compilers.compile_check("int add(int a, int b) { return a + b; }\n", "c") == []


@needs("rustc")
def test_rustc_reports_an_undefined_variable_with_its_line():
    findings = compilers.compile_check("fn f() -> i32 {\n    y + 1\n}\n", "rust")
    assert findings[0].rule_id == "compile-rust" and findings[0].line == 2


@needs("javac")
def test_javac_batch_judges_each_answer_separately():
    codes = [
        "public class Main { static int f() { return 1; } }\n",
        "public class Main { static int f() { return \"x\"; } }\n",
        "class Helper { int g() { return 2; } }\n",
    ]
    verdicts = [not r for r in map(bool, compilers.compile_many(codes, "java"))]
    assert verdicts == [True, False, True]


@needs("node")
def test_compile_results_are_cached_by_content(monkeypatch):
    code = "let cachedValue = 41 + 1;\n"
    compilers.compile_check(code, "javascript")

    def refuse(*args, **kwargs):
        raise AssertionError("toolchain spawned for a cached answer")

    monkeypatch.setattr(compilers, "_sandboxed", refuse)
    assert compilers.compile_check(code, "javascript") == []


@needs("node")
def test_check_many_adds_compile_findings_per_answer():
    results = check_many(["let a = 1;\n", "let = ;\n"], "javascript", levels=("compile",), jobs=2)
    assert [r.valid for r in results] == [True, False]


def test_missing_toolchain_is_reported_as_info(monkeypatch):
    monkeypatch.setattr(compilers.shutil, "which", lambda name: None)
    findings = compilers.compile_check("local x = 1\n", "lua")
    assert [(f.rule_id, f.severity) for f in findings] == [("compile-unavailable", "info")]


def test_available_toolchains_lists_python():
    assert compilers.available_toolchains()["python"] == "py_compile"
