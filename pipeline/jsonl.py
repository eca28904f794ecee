"""Reading JSON Lines (.jsonl, .jsonl.gz) the same way everywhere: suites, samples, answers,
decontamination sets, conversation exports, training files, judge suites and reference answers,
Batch API result files. Each problem names the file (when there is one) and the line.

    for where, record, problem in iter_jsonl(path):   # report bad lines and go on
    records = read_jsonl(path, error=SuiteFormatError)  # all or nothing
    for where, record, problem in parse_lines(text.splitlines()):   # text already in memory

Pairs import has its own streaming reader (pipeline/pairs/readers.py): it reads bytes in any
encoding the user names, makes a record with bad bytes an error of that record (or replaces and
counts them), skips an overlong line without holding it, reports the bytes read for progress, and
reads JSON arrays, CSV and Parquet alike, none of which these files need.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import StudioError


class JsonlError(StudioError):
    """A JSON Lines file is missing, unreadable or has a line that is not a JSON object."""


def iter_jsonl(path: str | Path, error: type[StudioError] = JsonlError
               ) -> Iterator[tuple[str, dict | None, str | None]]:
    """(where, record, problem) for each non-blank line; exactly one of record/problem is set."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            yield from parse_lines(fh, path.name)
    except (OSError, EOFError) as exc:
        raise error(f"cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}") from None


def parse_lines(lines: Iterable[str], name: str | None = None, *, objects_only: bool = True,
                not_json: str = "not valid JSON") -> Iterator[tuple[str, Any, str | None]]:
    """(where, record, problem) for each non-blank line; where is "NAME line N" ("line N" without
    a name); problem is `not_json` plus the parser's reason, or, with `objects_only`, says the
    line is not a JSON object. Without `objects_only` any JSON value is a record."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}" if name else f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, None, f"{not_json} ({exc.msg})"
            continue
        if objects_only and not isinstance(record, dict):
            yield where, None, f"expected a JSON object, got {type(record).__name__}"
            continue
        yield where, record, None


def read_jsonl(path: str | Path, error: type[StudioError] = JsonlError, allow_empty: bool = False) -> list[dict]:
    """Every record, or `error` naming the first bad line (and an empty file, unless allowed)."""
    records = []
    for where, record, problem in iter_jsonl(path, error):
        if record is None:  # exactly one of record/problem is set
            raise error(f"{where}: {problem}")
        records.append(record)
    if not records and not allow_empty:
        raise error(f"{Path(path).name} has no records")
    return records
