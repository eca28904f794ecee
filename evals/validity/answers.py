"""Batches of answers: load them from a JSONL file (or one source file), check each for its target
version, and summarize — the rate, agreement with hand labels, and the rules that fired.
`python -m evals validity` and the Evals tab's validity panel both call these.

JSONL rows: the answer is read from `field` (default: the first of code, completion, output,
answer, response); a row's own "target" and "prompt"/"instruction" set the Godot version when no
target is given; a boolean "valid" label is compared with the verdict.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline.jsonl import JsonlError, read_jsonl

from .findings import DEFAULT_LEVELS, ValidityResult

CODE_FIELDS = ("code", "completion", "output", "answer", "response")
PROMPT_FIELDS = ("prompt", "instruction", "question")


def load_answers(path: str | Path, language: str | None = None) -> tuple[list[dict], str]:
    """Rows to check and their language. A malformed line is an error naming its line."""
    from .treesitter import LANGUAGES

    path = Path(path)
    if not path.is_file():
        raise JsonlError(f"{path} does not exist")
    if path.suffix != ".jsonl":
        if language is None:
            by_suffix = {suffix: name for name, (_, _, suffix) in LANGUAGES.items()}
            language = by_suffix.get(path.suffix, "gdscript")
        try:
            code = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise JsonlError(f"cannot read {path}: {exc.strerror or exc}") from None
        return [{"id": path.name, "code": code}], language
    rows = read_jsonl(path)  # names the first malformed line
    return rows, language or "gdscript"


def answer_of(row: dict, field: str | None = None) -> str:
    if field:
        if not isinstance(row.get(field), str):
            raise JsonlError(f"row {row.get('id', '?')} has no text field {field!r}")
        return row[field]
    for name in CODE_FIELDS:
        if isinstance(row.get(name), str):
            return row[name]
    raise JsonlError(f"row {row.get('id', '?')} has none of the fields {', '.join(CODE_FIELDS)}; "
                     "name the answer field")


def check_answers(rows: list[dict], language: str, *, target: str | None = None, levels=DEFAULT_LEVELS,
                  field: str | None = None, project=None, base_class: str | None = None,
                  user_refs: str = "amend", jobs: int = 4) -> list[ValidityResult]:
    """One result per row; ``user_refs`` is the GDScript reference mode (see ``check``)."""
    from . import _normalize_levels, check, check_many

    levels = _normalize_levels(levels)
    prompts = [next((row[f] for f in PROMPT_FIELDS if isinstance(row.get(f), str)), None) for row in rows]
    targets = [target or (str(row["target"]) if row.get("target") else None) for row in rows]
    codes = [answer_of(row, field) for row in rows]
    if "compile" in levels:  # the toolchains run as one batch (a pool, javac in one JVM)
        groups: dict = {}
        for index, row_target in enumerate(targets):
            groups.setdefault(row_target, []).append(index)
        results: list = [None] * len(rows)
        for row_target, indexes in groups.items():
            batch = check_many([codes[i] for i in indexes], language, row_target, levels,
                               prompts=[prompts[i] for i in indexes], project=project,
                               base_class=base_class, jobs=jobs, user_refs=user_refs)
            for i, result in zip(indexes, batch):
                results[i] = result
        return results
    return [check(code, language, row_target, levels, prompt=prompt, project=project,
                  base_class=base_class, user_refs=user_refs)
            for code, row_target, prompt in zip(codes, targets, prompts)]


def summarize(rows: list[dict], results: list[ValidityResult]) -> dict:
    labelled = [(row["valid"], r.valid) for row, r in zip(rows, results) if isinstance(row.get("valid"), bool)]
    rules = Counter(f.rule_id for r in results for f in {f.rule_id: f for f in r.findings}.values())
    return {
        "answers": len(results),
        "valid": sum(r.valid for r in results),
        "rate": sum(r.valid for r in results) / len(results) if results else 0.0,
        "targets": sorted({r.target for r in results if r.target}),
        "levels": list(results[0].levels) if results else [],
        "labelled": len(labelled),
        "agree": sum(a == b for a, b in labelled),
        "rules": dict(rules.most_common()),
    }
