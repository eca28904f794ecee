"""Suites: HumanEval from the package, JSONL in HumanEval / MBPP / HumanEvalPack shape, imported
into the store; bad files give a clear message."""
from __future__ import annotations

import gzip
import json

import pytest

from evals.passk.suites import (
    SuiteFormatError,
    detect_shape,
    humaneval_tasks,
    import_humaneval,
    import_suite,
    load_suite_file,
    load_tasks,
)
from pipeline.store import ConflictError

MBPP = [
    {"task_id": 2, "text": "Write a function to find the shared elements from the given two lists.",
     "code": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
     "test_list": ["assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == set((4, 5))",
                   "assert set(similar_elements((1, 2, 3, 4), (5, 4, 3, 7))) == set((3, 4))"],
     "test_setup_code": "", "challenge_test_list": ["assert similar_elements((1,), (2,)) == ()"]},
    {"task_id": 3, "text": "Write a python function to identify non-prime numbers.",
     "code": "import math\ndef is_not_prime(n):\n    return any(n % i == 0 for i in range(2, int(math.sqrt(n)) + 1))\n",
     "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True"],
     "test_setup_code": "", "challenge_test_list": []},
]
PACK_JS = {"task_id": "JavaScript/0", "prompt": "const add = (a, b) => {\n",
           "declaration": "const add = (a, b) => {\n", "canonical_solution": "  return a + b;\n}\n",
           "buggy_solution": "  return a - b;\n}\n", "entry_point": "add",
           "test": "const testAdd = () => {\n  console.assert(add(1, 2) === 3)\n}\ntestAdd()\n",
           "instruction": "Write a JavaScript function `add(a, b)` that adds two numbers."}


def write_jsonl(path, records, gz=False):
    text = "".join(json.dumps(r) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_humaneval_comes_from_the_package_with_its_check_call():
    tasks = humaneval_tasks()
    assert len(tasks) == 164
    first = tasks[0]
    assert first["task_id"] == "HumanEval/0" and first["language"] == "python"
    assert first["test"].rstrip().endswith(f"check({first['entry_point']})")


def test_shapes_are_detected_from_their_fields():
    assert detect_shape(MBPP[0]) == "mbpp"
    assert detect_shape(PACK_JS) == "humanevalpack"
    assert detect_shape({"task_id": "x", "prompt": "p", "test": "t", "entry_point": "f"}) == "humaneval"
    with pytest.raises(SuiteFormatError, match="unknown suite shape"):
        detect_shape({"question": "?"})


def test_mbpp_records_become_tasks_with_entry_point_tests_and_challenge_tests(tmp_path):
    shape, language, tasks = load_suite_file(write_jsonl(tmp_path / "mbpp.jsonl", MBPP))
    assert (shape, language) == ("mbpp", "python")
    assert tasks[0]["entry_point"] == "similar_elements"
    assert tasks[0]["prompt"].startswith('"""\nWrite a function to find the shared elements')
    assert "similar_elements((1, 2, 3, 4)" in tasks[0]["test"]
    assert tasks[0]["meta"]["extended_test"].strip() == "assert similar_elements((1,), (2,)) == ()"
    assert "Your code should pass these tests" in tasks[1]["meta"]["instruction"]
    assert "extended_test" not in tasks[1]["meta"]


def test_humanevalpack_records_keep_language_and_buggy_solution(tmp_path):
    shape, language, tasks = load_suite_file(write_jsonl(tmp_path / "pack.jsonl.gz", [PACK_JS], gz=True))
    assert (shape, language) == ("humanevalpack", "js")
    assert tasks[0]["meta"]["buggy_solution"] == "  return a - b;\n}\n"
    assert tasks[0]["meta"]["instruction"].startswith("Write a JavaScript function")


def test_a_broken_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(MBPP[0]) + "\n{not json\n")
    with pytest.raises(SuiteFormatError, match="bad.jsonl line 2: not valid JSON"):
        load_suite_file(path)


def test_mixed_shapes_in_one_file_are_refused(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [MBPP[0], PACK_JS])
    with pytest.raises(SuiteFormatError, match="record 2 is humanevalpack-shaped"):
        load_suite_file(path)


def test_import_stores_the_suite_and_refuses_a_silent_overwrite(store, tmp_path):
    path = write_jsonl(tmp_path / "mbpp-mini.jsonl", MBPP)
    suite = import_suite(store, path)
    assert (suite["name"], suite["tasks"], suite["shape"]) == ("mbpp-mini", 2, "mbpp")
    assert set(load_tasks(store, "mbpp-mini")) == {"2", "3"}
    with pytest.raises(ConflictError, match="already exists"):
        import_suite(store, path)
    assert import_suite(store, write_jsonl(tmp_path / "one.jsonl", MBPP[:1]), name="mbpp-mini",
                        replace=True)["tasks"] == 1


def test_humaneval_import_is_idempotent(store):
    assert import_humaneval(store)["tasks"] == 164
    assert import_humaneval(store)["id"] == store.get_suite("humaneval")["id"]
