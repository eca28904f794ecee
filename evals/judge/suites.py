"""Judge suites: prompts with a category, an optional language and an optional reference answer.

    load_suite_file("my_suite.jsonl")        # -> validated items, or SuiteFileError naming the lines
    import_judge_suite(store, "mine", path)  # stored; a bad file changes nothing
    ensure_builtin_suite(store)              # the built-in suite (builtin_suite.jsonl), once

One JSON object a line: {"id", "category", "instruction", "language"?, "reference"?}. `prompt` is
accepted for `instruction` and `task_id` for `id` (MT-bench and HumanEval habits), and MT-bench's
own shape {"question_id", "category", "turns": [..], "reference"?: [..]} as it is published
(multi-turn questions: evals/judge/multiturn.py). Every problem
in a file is reported at once, with its line number, so a person fixes the file in one go.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import StudioError
from pipeline.jsonl import parse_lines

BUILTIN_NAME = "codetune-judge-v1"
BUILTIN_PATH = Path(__file__).with_name("builtin_suite.jsonl")
MAX_PROBLEMS_SHOWN = 8


class SuiteFileError(StudioError):
    """A judge suite file or form cannot be used; the message lists each bad line and what it lacks."""


def normalize_item(raw, where: str) -> tuple[dict | None, list[str]]:
    """(item, []) or (None, problems) for one suite entry."""
    from evals.judge.multiturn import question_fields

    if not isinstance(raw, dict):
        return None, [f"{where}: expected a JSON object, got {type(raw).__name__}"]
    raw = question_fields(raw)  # MT-bench's question_id / turns / reference list
    item = {"id": raw.get("id", raw.get("task_id")), "category": raw.get("category"),
            "instruction": raw.get("instruction", raw.get("prompt")),
            "language": raw.get("language") or None, "reference": raw.get("reference") or None}
    problems = [f"{where}: {raw['turns_error']}"] if raw.get("turns_error") else []
    if isinstance(item["id"], int) and not isinstance(item["id"], bool):
        item["id"] = str(item["id"])  # MT-bench numbers its questions
    if raw.get("turns") and len(raw["turns"]) > 1:
        item["turns"] = raw["turns"]
    if raw.get("references") is not None:
        if not (isinstance(raw["references"], list) and all(isinstance(r, str) for r in raw["references"])):
            problems.append(f"{where}: 'reference' must be a string or a list of strings (one per turn)")
        elif len(raw.get("turns") or [None]) > 1:
            item["references"] = raw["references"]
        else:
            item["reference"] = raw["references"][0] if raw["references"] else None
    for field in ("id", "category", "instruction"):
        value = item[field]
        if value is None or not str(value).strip():
            problems.append(f"{where}: missing {field!r}")
        else:
            item[field] = str(value).strip() if field != "instruction" else str(value)
    for field in ("language", "reference"):
        if item[field] is not None and not isinstance(item[field], str):
            problems.append(f"{where}: {field!r} must be a string")
    return (None, problems) if problems else (item, [])


def validate_items(entries: Sequence[tuple[str, object]]) -> list[dict]:
    """Check every entry; raise one SuiteFileError listing all problems, or return the items."""
    items, problems, seen = [], [], dict[str, str]()
    for where, raw in entries:
        item, bad = normalize_item(raw, where)
        problems += bad
        if item is None:
            continue
        if item["id"] in seen:
            problems.append(f"{where}: id {item['id']!r} repeats {seen[item['id']]}")
            continue
        seen[item["id"]] = where
        items.append(item)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = f" … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise SuiteFileError("the suite has problems; fix them and import again (nothing was stored): "
                             + "; ".join(shown) + more)
    if not items:
        raise SuiteFileError("the suite has no items; each line needs an id, a category and an instruction")
    return items


def parse_suite_text(text: str) -> list[dict]:
    """The validated items of a suite file's text (one JSON object per line), or one
    SuiteFileError naming the lines that are not JSON, else every problem of the items."""
    entries = list(parse_lines(text.splitlines(), objects_only=False, not_json="not JSON"))
    bad_json = [f"{where}: {problem}" for where, _, problem in entries if problem]
    if bad_json:
        raise SuiteFileError("the suite file is not JSON Lines; fix these lines (nothing was stored): "
                             + "; ".join(bad_json[:MAX_PROBLEMS_SHOWN]))
    return validate_items([(where, record) for where, record, _ in entries])


def load_suite_file(path: str | Path) -> list[dict]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteFileError(f"cannot read {path}: {exc}") from None
    return parse_suite_text(text)


def import_judge_suite(store, name: str, path: str | Path, replace: bool = False,
                       references: str | Path | None = None, all_references: bool = False) -> dict:
    """A suite file (ours, or MT-bench's question file) with, optionally, MT-bench's reference
    answers file (question_id -> choices[0].turns; see evals.judge.multiturn)."""
    from evals.judge.multiturn import attach_references, load_references

    items = load_suite_file(path)
    if references:
        attach_references(items, load_references(references), all_references)
    return store.create_judge_suite(name, items, source=str(path), replace=replace)


def save_judge_suite(store, name: str, rows: list[dict], replace: bool = False) -> dict:
    """A suite written in the UI's table: rows of {id, category, language, instruction, reference}."""
    entries = [(f"row {n}", {k: v for k, v in r.items() if v not in (None, "")})
               for n, r in enumerate(rows, 1) if any(str(v or "").strip() for v in r.values())]
    return store.create_judge_suite(name, validate_items(entries), source="written in the studio",
                                    replace=replace)


def ensure_builtin_suite(store) -> dict:
    """The project's own suite: 54 code instructions in six categories (Godot 4 GDScript among them)."""
    from pipeline.store import ConflictError, NotFoundError

    try:
        return store.get_judge_suite(BUILTIN_NAME)
    except NotFoundError:
        try:
            return store.create_judge_suite(BUILTIN_NAME, load_suite_file(BUILTIN_PATH), source="built-in")
        except ConflictError:  # another process stored it first
            return store.get_judge_suite(BUILTIN_NAME)
