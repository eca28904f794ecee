"""Issue 24, item 2: the scorers as pure functions, and the doctests they run in the real sandbox."""
from __future__ import annotations

import pytest

from evals.owncode.score import chrf, doctest_job, doctest_source, exact_match, normalize_code, validity
from evals.sandbox import SandboxLimits, SandboxWorker

REFERENCE = '''def double(x):
    """Twice x.

    >>> double(2)
    4
    >>> double("ab")
    'abab'
    """
    return x * 2
'''


def test_exact_match_ignores_whitespace_only():
    assert exact_match("def f():  return 1\n", "def f(): return 1")
    assert not exact_match("def f(): return 2", "def f(): return 1") and not exact_match("", "")
    assert normalize_code(" a \n\t b ") == "a b"


def test_chrf_is_100_for_a_copy_0_for_nothing_and_between_for_a_near_miss():
    assert chrf(REFERENCE, REFERENCE) == 100.0 and chrf("", REFERENCE) == 0.0
    assert 30.0 < chrf(REFERENCE.replace("x * 2", "x + x"), REFERENCE) < 100.0


def test_validity_says_valid_invalid_or_not_checkable():
    assert validity(REFERENCE, "python") == (1, [])
    assert validity("def f(:", "python")[0] == 0 and validity("", "python") == (0, ["empty answer"])
    assert validity("x", "cobol")[0] is None


def test_doctests_come_from_the_docstring_or_the_instruction():
    assert doctest_source(REFERENCE) == ">>> double(2)\n4\n\n>>> double(\"ab\")\n'abab'\n"
    assert doctest_source("def f(): return 1", instruction="Return one.\n\n>>> f()\n1") == ">>> f()\n1\n"
    assert doctest_source("def f(): return 1") is None and doctest_source(REFERENCE, "gdscript") is None


@pytest.fixture(scope="module")
def worker():
    with SandboxWorker(SandboxLimits(timeout_s=5, allow_weak=True)) as w:
        yield w


@pytest.mark.parametrize("answer, verdict", [
    ("def double(x):\n    return x * 2\n", "passed"),
    ("def double(x):\n    return x + x\n", "passed"),
    ("def double(x):\n    return x * 3\n", "failed"),
    ("def triple(x):\n    return x * 3\n", "failed"),
])
def test_the_references_doctests_judge_the_answer_in_the_sandbox(worker, answer, verdict):
    limits = SandboxLimits(timeout_s=5, allow_weak=True)
    assert worker.run(doctest_job(answer, doctest_source(REFERENCE), limits))["status"] == verdict
