"""Streaming record readers for JSONL, JSON arrays, CSV/TSV and Parquet.

Each yields Record(line, data, error, position): `line` is the 1-based line (row for Parquet)
where the record starts, `data` a dict or None, `error` why the record can't be used, and
`position` the bytes read so far (for progress). Nothing reads a whole file: lines are read
one at a time (an overlong line is skipped without holding it), JSON arrays are decoded
incrementally, Parquet comes in batches. Bytes that aren't valid in the file's encoding make
that record an error (or are replaced and counted, with replace_bad_bytes).
"""
from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import StudioError

MAX_RECORD_BYTES = 64 * 1024 * 1024
FORMATS = ("jsonl", "json", "csv", "tsv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
             ".parquet": "parquet", ".pq": "parquet"}


class ImportFileError(StudioError):
    """A file cannot be imported as asked; the message says what was found and what to do."""


@dataclass
class Record:
    line: int
    data: dict | None
    error: str | None = None
    position: int = 0
    replaced: bool = False


def detect_format(path: str | Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ImportFileError(f"cannot tell the format of {Path(path).name} from its extension; "
                              f"name it .jsonl/.json/.csv/.tsv/.parquet or pass a format")
    return _SUFFIXES[suffix]


def read_records(path: str | Path, fmt: str = "auto", encoding: str = "utf-8",
                 replace_bad_bytes: bool = False) -> Iterator[Record]:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist or is not a file")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        yield from _parquet_records(path)
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportFileError(f"unknown text encoding {encoding!r}") from None
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") and not encoding.lower().startswith("utf-16"):
            raise ImportFileError(f"{path.name} is UTF-16 text; save it as UTF-8 and import it again")
        if encoding.lower().replace("_", "-").startswith("utf-16"):
            raise ImportFileError("UTF-16 files can't be streamed line by line; save the file as UTF-8")
        if fmt == "jsonl":
            yield from _jsonl_records(fh, encoding, replace_bad_bytes)
        elif fmt == "json":
            yield from _json_array_records(fh, encoding, replace_bad_bytes)
        else:
            yield from _csv_records(fh, encoding, replace_bad_bytes, "\t" if fmt == "tsv" else ",")


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) — bytes None for a line over MAX_RECORD_BYTES, skipped unread."""
    number = 0
    while True:
        line = fh.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while True:
                rest = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line


def _decode(raw: bytes, encoding: str, replace: bool) -> tuple[str, str | None, bool]:
    """(text, error, replaced); with an error, the text has the bad bytes replaced (for CSV, which
    must still read past the line to find where the record ends)."""
    try:
        return raw.decode(encoding), None, False
    except UnicodeDecodeError as exc:
        if replace:
            return raw.decode(encoding, errors="replace"), None, True
        return raw.decode(encoding, errors="replace"), (
            f"not valid {encoding} (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "pass the file's encoding (e.g. latin-1) or replace bad bytes"), False


def _jsonl_records(fh: BinaryIO, encoding: str, replace: bool) -> Iterator[Record]:
    for number, raw in _lines(fh):
        position = fh.tell()
        if raw is None:
            yield Record(number, None, f"line longer than {MAX_RECORD_BYTES // 2**20} MiB", position)
            continue
        text, error, replaced = _decode(raw, encoding, replace)
        if error:
            yield Record(number, None, error, position)
            continue
        text = text.rstrip("\r\n")
        if number == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(number, None, f"not valid JSON ({exc.msg} at column {exc.colno})", position)
            continue
        if not isinstance(data, dict):
            yield Record(number, None, f"expected a JSON object, got {type(data).__name__}", position)
            continue
        yield Record(number, data, None, position, replaced)


def _json_array_records(fh: BinaryIO, encoding: str, replace: bool) -> Iterator[Record]:
    """Elements of a top-level array (or concatenated objects), decoded chunk by chunk."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace" if replace else "strict")
    parser = json.JSONDecoder()
    buf, idx, eof, chunk = "", 0, False, 1 << 20
    line, counted = 1, 0  # line number at buf[counted]
    in_array = None

    def more() -> bool:
        nonlocal buf, eof, chunk
        if eof:
            return False
        data = fh.read(chunk)
        chunk = min(chunk * 2, 16 << 20)  # one huge element costs O(size), not O(size^2)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"not valid {encoding} near byte {fh.tell() - len(data) + exc.start}; "
                                  "pass the file's encoding (e.g. latin-1) or replace bad bytes") from None
        eof = not data
        buf += text
        return bool(data)

    def line_at(pos: int) -> int:
        nonlocal line, counted
        line += buf.count("\n", counted, pos)
        counted = pos
        return line

    while True:
        if idx > 1 << 20:  # drop what was consumed
            line_at(idx)
            buf, idx, counted = buf[idx:], 0, 0
        while idx < len(buf) and buf[idx] in " \t\r\n,\ufeff" + ("]" if in_array else ""):
            idx += 1
        if idx >= len(buf):
            if not more():
                return
            continue
        if in_array is None:
            in_array = buf[idx] == "["
            idx += in_array
            continue
        start_line = line_at(idx)
        try:
            value, end = parser.raw_decode(buf, idx)
        except json.JSONDecodeError as exc:
            # Cut off by the chunk end (a partial literal like 'fals' fails a few chars early)?
            incomplete = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
            if incomplete and len(buf) - idx <= MAX_RECORD_BYTES and more():
                continue
            yield Record(line_at(min(exc.pos, len(buf))), None,
                         f"not valid JSON ({exc.msg}); stopped reading here — a JSON array can't be "
                         "resynchronised after an error (JSONL can)", fh.tell())
            return
        if isinstance(value, dict):
            yield Record(start_line, value, None, fh.tell())
        else:
            yield Record(start_line, None, f"expected a JSON object, got {type(value).__name__}", fh.tell())
        idx = end


def _csv_records(fh: BinaryIO, encoding: str, replace: bool, delimiter: str) -> Iterator[Record]:
    csv.field_size_limit(MAX_RECORD_BYTES)
    bad: dict[int, str] = {}
    replaced_lines: set[int] = set()

    def text_lines() -> Iterator[str]:
        for number, raw in _lines(fh):
            if raw is None:
                bad[number] = f"line longer than {MAX_RECORD_BYTES // 2**20} MiB"
                yield "\n"
                continue
            text, error, replaced = _decode(raw, encoding, replace)
            if error:
                bad[number] = error
            if replaced:
                replaced_lines.add(number)
            yield text.lstrip("\ufeff") if number == 1 else text

    reader = csv.reader(text_lines(), delimiter=delimiter)
    header, last = None, 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(reader.line_num, None, f"not valid CSV ({exc})", fh.tell())
            last = reader.line_num
            continue
        first, last = last + 1, reader.line_num
        problems = [bad[n] for n in range(first, last + 1) if n in bad]
        if header is None:
            if problems:
                raise ImportFileError(f"the header line can't be read: {problems[0]}")
            header = [h.strip() for h in row]
            if len(set(header)) != len(header):
                raise ImportFileError(f"the header has repeated column names: {', '.join(header)}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if problems:
            yield Record(first, None, problems[0], fh.tell())
        elif len(row) != len(header):
            yield Record(first, None, f"{len(row)} fields but the header has {len(header)}", fh.tell())
        else:
            replaced = any(n in replaced_lines for n in range(first, last + 1))
            yield Record(first, dict(zip(header, row)), None, fh.tell(), replaced)


def _parquet_records(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that isn't Parquet
        raise ImportFileError(f"{path.name} is not a readable Parquet file ({exc})") from None
    rows, size, total = 0, path.stat().st_size, max(1, source.metadata.num_rows)
    for batch in source.iter_batches(batch_size=2000):
        for data in batch.to_pylist():
            rows += 1
            yield Record(rows, data, None, int(size * rows / total))


def file_columns(path: str | Path, fmt: str = "auto") -> list[str] | None:
    """Columns a tabular file declares up front (CSV header, Parquet schema); None for JSON."""
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    return None
