"""Reading JSON Lines files (.jsonl, .jsonl.gz) the same way everywhere: suites, samples, answers,
decontamination sets, conversations. Each problem names the file and the line.

    for where, record, problem in iter_jsonl(path):   # report bad lines and go on
    records = read_jsonl(path, error=SuiteFormatError)  # all or nothing

Pairs import has its own streaming reader (pipeline/pairs/readers.py): it decodes arbitrary
encodings byte by byte and keeps going past undecodable records, which these files never need.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

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
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path.name} line {number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield where, None, f"not valid JSON ({exc.msg})"
                    continue
                if not isinstance(record, dict):
                    yield where, None, f"expected a JSON object, got {type(record).__name__}"
                    continue
                yield where, record, None
    except (OSError, EOFError) as exc:
        raise error(f"cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}") from None


def read_jsonl(path: str | Path, error: type[StudioError] = JsonlError, allow_empty: bool = False) -> list[dict]:
    """Every record, or `error` naming the first bad line (and an empty file, unless allowed)."""
    records = []
    for where, record, problem in iter_jsonl(path, error):
        if problem:
            raise error(f"{where}: {problem}")
        records.append(record)
    if not records and not allow_empty:
        raise error(f"{Path(path).name} has no records")
    return records
