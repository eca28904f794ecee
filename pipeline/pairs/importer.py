"""Import instruction pairs from JSONL, JSON, CSV/TSV or Parquet, in alpaca form
(instruction / input / output columns) or messages form (a list of {role, content}).

    preview = preview_file("data.csv")          # columns, first rows, a suggested mapping
    report = import_file(store, ImportConfig(path="data.csv", instruction="question", output="answer"))
    python -m pipeline pairs import data.csv --instruction question --output answer

Files are streamed (see pipeline.pairs.readers). A record that can't be used is reported with
its line number and skipped; the good ones are imported. Each imported pair remembers
"file fingerprint:line", so importing the same file again — or resuming an interrupted import
job ("import_pairs") — adds nothing twice.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.config import JobConfig, config_from_dict
from pipeline.errors import ConfigError
from pipeline.pairs.readers import ImportFileError, detect_format, file_columns, read_records
from pipeline.store import Store
from pipeline.store.pairs import STATUSES

SHAPES = ("auto", "alpaca", "messages")
TARGETS = ("instruction", "input", "output", "messages", "language")
# Column names other datasets use for the same thing (first match wins).
ALIASES = {
    "instruction": ("instruction", "prompt", "question", "query", "problem", "task"),
    "input": ("input", "context", "code_input"),
    "output": ("output", "response", "answer", "completion", "solution", "code", "canonical_solution"),
    "messages": ("messages", "conversations", "conversation", "chat", "dialog"),
    "language": ("language", "lang", "programming_language"),
}
USER_ROLES, ASSISTANT_ROLES = ("user", "human"), ("assistant", "gpt", "bot", "model")
PREVIEW_ROWS = 20
BATCH = 1000


@dataclass
class ImportConfig(JobConfig):
    path: str = field(default="", metadata={"help": "the file to import (.jsonl, .json, .csv, .tsv, .parquet)"})
    format: str = field(default="auto", metadata={"help": "jsonl, json, csv, tsv or parquet (auto: from the extension)"})
    shape: str = field(default="auto", metadata={"help": "alpaca (instruction/input/output columns), messages (a chat list) or auto"})
    instruction: str | None = field(default=None, metadata={"help": "column holding the instruction (default: guessed)"})
    input: str | None = field(default=None, metadata={"help": "column holding the optional input (default: guessed)"})
    output: str | None = field(default=None, metadata={"help": "column holding the output (default: guessed)"})
    messages: str | None = field(default=None, metadata={"help": "column holding the chat messages (messages shape)"})
    language: str | None = field(default=None, metadata={"help": "column holding the programming language (default: guessed)"})
    default_language: str | None = field(default=None, metadata={"help": "language for rows without a language column"})
    status: str = field(default="draft", metadata={"help": "status of the imported pairs (draft or approved)"})
    encoding: str = field(default="utf-8", metadata={"help": "text encoding of the file"})
    replace_bad_bytes: bool = field(default=False, metadata={"help": "decode bytes invalid in the encoding as U+FFFD instead of skipping the record"})
    max_errors: int = field(default=200, metadata={"help": "how many bad records to list in the report (all are counted)"})

    def __post_init__(self):
        if self.shape not in SHAPES:
            raise ConfigError(f"shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        if self.status not in STATUSES:
            raise ConfigError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        for target in TARGETS:
            if getattr(self, target) == "":
                setattr(self, target, None)

    def mapping(self) -> dict[str, str]:
        return {t: getattr(self, t) for t in TARGETS if getattr(self, t)}


def guess_mapping(columns: list[str]) -> dict[str, str]:
    lower = {c.lower(): c for c in columns}
    mapping: dict[str, str] = {}
    for target, names in ALIASES.items():
        for name in names:
            if name in lower and lower[name] not in mapping.values():
                mapping[target] = lower[name]
                break
    return mapping


def preview_file(path: str | Path, fmt: str = "auto", encoding: str = "utf-8",
                 replace_bad_bytes: bool = False, rows: int = PREVIEW_ROWS) -> dict:
    """The first records, every column seen in them, a suggested mapping and shape, problems."""
    fmt = detect_format(path, fmt)
    sample, problems, columns = [], [], list(file_columns(path, fmt) or [])
    for record in read_records(path, fmt, encoding, replace_bad_bytes):
        if record.data is None:  # exactly one of data/error is set
            problems.append(f"line {record.line}: {record.error}")
        else:
            sample.append(record.data)
            columns += [k for k in record.data if k not in columns]
        if len(sample) >= rows or len(problems) >= rows:
            break
    mapping = guess_mapping(columns)
    shape = "messages" if "messages" in mapping and "instruction" not in mapping else "alpaca"
    return {"format": fmt, "columns": columns, "rows": sample, "mapping": mapping, "shape": shape,
            "problems": problems}


def resolve_mapping(cfg: ImportConfig, columns: list[str]) -> tuple[str, dict[str, str]]:
    """(shape, mapping) from the user's choices and the columns found; clear errors otherwise."""
    found = ", ".join(columns) or "none"
    chosen = cfg.mapping()
    missing = [f"{t}={c}" for t, c in chosen.items() if columns and c not in columns]
    if missing:
        raise ImportFileError(f"column(s) not in the file: {', '.join(missing)}; columns found: {found}")
    mapping = {**{t: c for t, c in guess_mapping(columns).items() if t not in chosen}, **chosen}
    shape = cfg.shape
    if shape == "auto":
        if "messages" in chosen or ("messages" in mapping and not {"instruction", "output"} & set(chosen)
                                    and not {"instruction", "output"} <= set(mapping)):
            shape = "messages"
        else:
            shape = "alpaca"
    if shape == "alpaca":
        mapping.pop("messages", None)
        absent = [t for t in ("instruction", "output") if t not in mapping]
        if absent:
            raise ImportFileError(f"no {' or '.join(absent)} column: columns found: {found}. Map them, e.g. "
                                  f"--instruction COLUMN --output COLUMN (or use the messages shape)")
    else:
        for t in ("instruction", "input", "output"):
            mapping.pop(t, None)
        if "messages" not in mapping:
            raise ImportFileError(f"no messages column: columns found: {found}. Map it with --messages COLUMN")
    return shape, mapping


def pair_from_record(data: dict, shape: str, mapping: dict[str, str]) -> tuple[dict | None, str | None]:
    """The pair's fields from one record, or why the record can't become a pair."""
    row: dict
    if shape == "messages":
        messages_row, error = _from_messages(data.get(mapping["messages"]), mapping["messages"])
        if messages_row is None:  # exactly one of row/error is set
            return None, error
        row = messages_row
        if row["messages"] is None:
            del row["messages"]  # a single turn: the plain pair it always was
    else:
        row = {}
        for target in ("instruction", "input", "output"):
            column = mapping.get(target)
            value = data.get(column) if column else None
            if value is None and target != "input":
                return None, f"missing {column!r}"
            if isinstance(value, (list, dict)):
                return None, f"{column!r} is a {type(value).__name__}, expected text"
            row[target] = "" if value is None else str(value)
        if not row["instruction"].strip() or not row["output"].strip():
            return None, f"empty {'instruction' if not row['instruction'].strip() else 'output'}"
    language = data.get(mapping["language"]) if mapping.get("language") else None
    row["language"] = str(language).strip().lower() if language not in (None, "") else None
    return row, None


def _from_messages(value, column: str) -> tuple[dict | None, str | None]:
    """The pair columns for a messages record: a plain pair for one turn, a conversation pair
    (pipeline.pairs.conversations) for a system prompt or several turns. A trailing question
    nobody answered is dropped, as FastChat's ShareGPT cleaning does."""
    from pipeline.pairs.conversations import ConversationError, normalize, pair_row

    if isinstance(value, list) and value:
        while value and isinstance(value[-1], dict) and \
                str(value[-1].get("role", value[-1].get("from", ""))).lower() in USER_ROLES:
            value = value[:-1]
        if not any(isinstance(m, dict) and str(m.get("role", m.get("from", ""))).lower()
                             in ASSISTANT_ROLES for m in value):
            return None, f"{column!r} has no assistant reply after the first user message"
    try:
        return pair_row(normalize(value, column)), None
    except ConversationError as exc:
        return None, str(exc)


def file_fingerprint(path: Path) -> str:
    """Identifies a file's content cheaply (size + first and last 64 KiB), not its name."""
    digest, size = hashlib.sha1(), path.stat().st_size
    with open(path, "rb") as fh:
        digest.update(str(size).encode() + fh.read(65536))
        if size > 65536:
            fh.seek(max(65536, size - 65536))
            digest.update(fh.read(65536))
    return digest.hexdigest()[:12]


def import_file(store: Store, cfg: ImportConfig, progress: Callable | None = None,
                log: Callable[[str], None] = lambda m: None) -> dict:
    path = Path(cfg.path)
    if not path.is_file():
        raise ImportFileError(f"{cfg.path or 'no file given'}: not a file")
    started, size = time.monotonic(), max(1, path.stat().st_size)
    preview = preview_file(path, cfg.format, cfg.encoding, cfg.replace_bad_bytes, rows=200)
    if not preview["rows"] and preview["problems"]:
        raise ImportFileError(f"no readable record at the start of {path.name}: " + "; ".join(preview["problems"][:3]))
    shape, mapping = resolve_mapping(cfg, preview["columns"])
    fingerprint = file_fingerprint(path)
    report = {"file": path.name, "format": preview["format"], "shape": shape, "mapping": mapping,
              "records": 0, "imported": 0, "already_present": 0, "malformed": 0, "replaced_bytes_records": 0,
              "scrubbed": 0, "held_back": 0, "errors": []}
    batch: list[dict] = []

    def flush() -> None:
        from pipeline.curate.scrub import scrub_pair_rows

        kept, held, scrubbed = scrub_pair_rows(batch)  # secrets never reach the store
        report["scrubbed"] += scrubbed["pairs_scrubbed"]
        report["held_back"] += len(held)
        for h in held[:max(0, cfg.max_errors - len(report["errors"]))]:
            report["errors"].append({"line": int(h["ref"].rsplit(":", 1)[-1]), "error": f"held back: {h['reason']}"})
        inserted, existing = store.insert_imported_pairs(kept)
        report["imported"] += inserted
        report["already_present"] += existing
        batch.clear()

    for record in read_records(path, preview["format"], cfg.encoding, cfg.replace_bad_bytes):
        report["records"] += 1
        row, error = (None, record.error) if record.data is None else pair_from_record(record.data, shape, mapping)
        if row is None:  # exactly one of row/error is set
            report["malformed"] += 1
            if len(report["errors"]) < cfg.max_errors:
                report["errors"].append({"line": record.line, "error": error})
            continue
        report["replaced_bytes_records"] += record.replaced
        row.update(origin="import", status=cfg.status, import_ref=f"{fingerprint}:{record.line}",
                   path=path.name, language=row["language"] or cfg.default_language)
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
            if progress:
                progress(record.position, size, f"{report['imported']} imported, {report['malformed']} bad")
    flush()
    report["seconds"] = round(time.monotonic() - started, 2)
    log(f"imported {report['imported']} pairs from {path.name} ({report['already_present']} already present, "
        f"{report['malformed']} bad records)")
    for e in report["errors"][:20]:
        log(f"  line {e['line']}: {e['error']}")
    if progress:
        progress(size, size, "done", force=True)
    return report


def import_job(ctx) -> dict:
    """Job kind "import_pairs": params are an ImportConfig as a dict. Resuming re-reads the file
    and skips the records already imported (by file fingerprint and line)."""
    cfg = config_from_dict(ImportConfig, ctx.params)
    report = import_file(ctx.store, cfg, progress=ctx.progress, log=ctx.log)
    report["config"] = asdict(cfg)
    return report


def should_run_as_job(path: str | Path, limit_bytes: int = 20 * 2**20) -> bool:
    """Big files go to a background job so the UI stays responsive."""
    return os.path.getsize(path) > limit_bytes
