"""Issue 22, item 1 (Python): a solution cannot change what the test's names mean. The test sees
the task's own definitions and the solution's entry point only. One attack per test: a clear
`failed`, and the worker still runs the next sample."""
from __future__ import annotations

import pytest

from evals.passk.languages import build_job
from evals.sandbox import SandboxLimits, SandboxWorker

LIMITS = SandboxLimits(timeout_s=3.0, memory_mb=512)
TASK = {"task_id": "t/0", "language": "python", "entry_point": "add",
        "prompt": "from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\"a + b\"\"\"\n"}
RIGHT = "    return a + b\n"


@pytest.fixture(scope="module")
def worker():
    with SandboxWorker(LIMITS) as w:
        yield w


def run(worker, completion: str, test: str, task: dict = TASK) -> dict:
    return worker.run(build_job("python", task["prompt"] + completion, test, LIMITS, task=task))


def still_works(worker, test: str) -> None:
    assert run(worker, RIGHT, test)["status"] == "passed"


def test_a_solution_that_redefines_abs_does_not_pass(worker):
    test = "def check(candidate):\n    assert abs(candidate(2, 3) - 5) < 1e-9\n\ncheck(add)\n"
    result = run(worker, "    return 0\n\n\ndef abs(x):\n    return 0\n", test)
    assert result["status"] == "failed" and "a test failed" in result["error"]
    still_works(worker, test)


def test_a_solution_that_redefines_sorted_does_not_pass(worker):
    test = "def check(candidate):\n    assert sorted([candidate(1, 1), 0]) == [0, 2]\n\ncheck(add)\n"
    result = run(worker, "    return 7\n\n\ndef sorted(x):\n    return [0, 2]\n", test)
    assert result["status"] == "failed"
    still_works(worker, test)


def test_a_solution_that_redefines_len_does_not_pass(worker):
    test = "def check(candidate):\n    assert len(str(candidate(40, 2))) == 2\n    assert candidate(1, 1) == 2 or len([]) == 0\n\ncheck(add)\n"
    result = run(worker, "    return 12345\n\n\ndef len(x):\n    return 2 if x else 1\n", test)
    assert result["status"] == "failed"
    still_works(worker, test)


def test_a_solution_that_redefines_the_prompts_helper_does_not_pass(worker):
    task = dict(TASK, prompt="def shift(s):\n    return s[1:] + s[:1]\n\n\ndef unshift(s: str) -> str:\n"
                             "    \"\"\"Undo shift.\"\"\"\n", entry_point="unshift")
    test = "def check(candidate):\n    assert candidate(shift('abcd')) == 'abcd'\n\ncheck(unshift)\n"
    forged = "    return s\n\n\ndef shift(s):\n    return s\n"   # the identity, and a helper to match
    result = run(worker, forged, test, task)
    assert result["status"] == "failed"
    assert run(worker, "    return s[-1:] + s[:-1]\n", test, task)["status"] == "passed"


def test_a_bare_job_without_a_task_still_cannot_shadow_builtins(worker):
    job = build_job("python", "def f():\n    return 0\n\ndef abs(x):\n    return 0\n",
                    "assert abs(f() - 1) == 0\n", LIMITS)
    assert worker.run(job)["status"] == "failed"
    assert worker.run(build_job("python", "def f():\n    return 1\n", "assert abs(f() - 1) == 0\n",
                                LIMITS))["status"] == "passed"


def test_a_solution_missing_the_entry_point_fails_clearly(worker):
    test = "def check(candidate):\n    assert candidate(1, 1) == 2\n\ncheck(add)\n"
    result = worker.run(build_job("python", "def other(a, b):\n    return a + b\n", test, LIMITS, task=TASK))
    assert result["status"] == "failed" and "NameError" in result["error"]
    still_works(worker, test)


def test_a_task_may_expose_more_answer_functions_but_never_a_builtin(worker):
    task = dict(TASK, meta={"expose": ["helper", "abs"]})
    test = "def check(candidate):\n    assert candidate(1, helper()) == 3 and abs(-2) == 2\n\ncheck(add)\n"
    good = "    return a + b\n\n\ndef helper():\n    return 2\n"
    assert run(worker, good, test, task)["status"] == "passed"
    forged = "    return 3\n\n\ndef helper():\n    return 2\n\n\ndef abs(x):\n    return 0\n"
    test_abs = "def check(candidate):\n    assert abs(candidate(0, 0) - 0) == 0\n\ncheck(add)\n"
    assert run(worker, forged, test_abs, task)["status"] == "failed"
