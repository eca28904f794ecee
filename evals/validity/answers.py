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

from .findings import DEFAULT_LEVELS, ValidityResult

CODE_FIELDS = ("code", "completion", "output", "answer", "response")
PROMPT_FIELDS = ("prompt", "instruction", "question")


def load_answers(path: str | Path, language: str | None = None) -> tuple[list[dict], str]:
    """Rows to check and their language. A malformed line is an error naming its line."""
    from .treesitter import LANGUAGES

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if path.suffix != ".jsonl":
        if language is None:
            by_suffix = {suffix: name for name, (_, _, suffix) in LANGUAGES.items()}
            language = by_suffix.get(path.suffix, "gdscript")
        return [{"id": path.name, "code": path.read_text(encoding="utf-8", errors="replace")}], language
    from evals.passk.suites import read_jsonl  # names the first malformed line

    rows = read_jsonl(path)
    return rows, language or "gdscript"


def answer_of(row: dict, field: str | None = None) -> str:
    if field:
        if not isinstance(row.get(field), str):
            raise ValueError(f"row {row.get('id', '?')} has no text field {field!r}")
        return row[field]
    for name in CODE_FIELDS:
        if isinstance(row.get(name), str):
            return row[name]
    raise ValueError(f"row {row.get('id', '?')} has none of the fields {', '.join(CODE_FIELDS)}; "
                     "name the answer field")


def check_answers(rows: list[dict], language: str, *, target: str | None = None, levels=DEFAULT_LEVELS,
                  field: str | None = None, project=None, base_class: str | None = None) -> list[ValidityResult]:
    from . import check

    results = []
    for row in rows:
        prompt = next((row[f] for f in PROMPT_FIELDS if isinstance(row.get(f), str)), None)
        row_target = target or (str(row["target"]) if row.get("target") else None)
        results.append(check(answer_of(row, field), language, row_target, levels, prompt=prompt,
                             project=project, base_class=base_class))
    return results


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
