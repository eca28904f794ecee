"""Reading pairs: the review filter, full-text search, pages with a total, detail and stats.

A PairFilter is the one description of "which pairs" shared by the Pairs tab, bulk actions,
cleaning scopes and frozen datasets (it is saved as JSON with each dataset).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json

STATUSES = ("draft", "approved", "rejected", "failed")
TEXT_FIELDS = ("instruction", "input", "output")
FLAG_CHOICES = ("duplicate", "contaminated", "filtered", "flagged", "clean")
# The expression the length filter and the pairs_total_len index share (must match exactly).
LENGTH_SQL = "(length(instruction) + length(input) + length(output))"
FLAG_SQL = {
    "duplicate": "(dup_group IS NOT NULL AND dup_group != id)",
    "contaminated": "(contaminated_by IS NOT NULL)",
    "filtered": "(flags IS NOT NULL AND flags != '[]')",
}
FLAG_SQL["flagged"] = "(" + " OR ".join(FLAG_SQL.values()) + ")"
FLAG_SQL["clean"] = f"(NOT {FLAG_SQL['flagged']})"
ORDERS = {"id": "id", "-id": "id DESC", "length": f"{LENGTH_SQL}, id",
          "-length": f"{LENGTH_SQL} DESC, id", "updated": "updated_at DESC, id"}


@dataclass
class PairFilter:
    status: list[str] = field(default_factory=list, metadata={"help": "only these statuses (draft, approved, rejected, failed)"})
    language: list[str] = field(default_factory=list, metadata={"help": "only these languages"})
    repo: list[str] = field(default_factory=list, metadata={"help": "only pairs from these repos (full name like owner/name, or repo id)"})
    origin: list[str] = field(default_factory=list, metadata={"help": "only these origins (label, docstring, commit, import, chat)"})
    labeller: list[str] = field(default_factory=list, metadata={"help": "only pairs labelled by these models"})
    min_len: int | None = field(default=None, metadata={"help": "at least this many characters in instruction + input + output"})
    max_len: int | None = field(default=None, metadata={"help": "at most this many characters in instruction + input + output"})
    flag: str | None = field(default=None, metadata={"help": "duplicate, contaminated, filtered, flagged (any of those) or clean (none)"})
    search: str | None = field(default=None, metadata={"help": "full-text search in instruction, input and output (words; end a word with * for a prefix)"})

    def __post_init__(self) -> None:
        for name in ("status", "language", "repo", "origin", "labeller"):
            value = getattr(self, name)
            if value is None or value == "":
                value = []
            elif isinstance(value, (str, int)):
                value = [value]
            setattr(self, name, [str(v) for v in value if str(v).strip()])
        bad = [s for s in self.status if s not in STATUSES]
        if bad:
            raise StoreError(f"unknown status {bad[0]!r}; use one of {', '.join(STATUSES)}")
        if self.flag in ("", "any"):
            self.flag = None
        if self.flag is not None and self.flag not in FLAG_CHOICES:
            raise StoreError(f"unknown flag filter {self.flag!r}; use one of {', '.join(FLAG_CHOICES)}")
        self.search = (self.search or "").strip() or None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "")}

    @classmethod
    def from_dict(cls, data: dict | None) -> PairFilter:
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise StoreError(f"unknown filter field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return cls(**(data or {}))

    def where(self) -> tuple[str, list]:
        """SQL WHERE clause (without the keyword) and its parameters."""
        parts, args = [], []
        for column in ("status", "language", "origin", "labeller"):
            values = getattr(self, column)
            if values:
                parts.append(f"{column} IN ({','.join('?' * len(values))})")
                args += values
        if self.repo:
            ids = [int(r) for r in self.repo if r.isdigit()]
            names = [r for r in self.repo if not r.isdigit()]
            # A labelled pair may carry its repo only through its snippet.
            repos = ("(SELECT id FROM repos WHERE id IN ({}) OR full_name IN ({}))"
                     .format(",".join("?" * len(ids)) or "NULL", ",".join("?" * len(names)) or "NULL"))
            parts.append(f"(repo_id IN {repos} OR snippet_id IN "
                         f"(SELECT id FROM snippets WHERE repo_id IN {repos}))")
            args += ids + names + ids + names
        if self.min_len is not None:
            parts.append(f"{LENGTH_SQL} >= ?")
            args.append(int(self.min_len))
        if self.max_len is not None:
            parts.append(f"{LENGTH_SQL} <= ?")
            args.append(int(self.max_len))
        if self.flag:
            parts.append(FLAG_SQL[self.flag])
        if self.search:
            # '+' keeps SQLite from fetching each match's row by id (slow for common words): it
            # scans the covering index and probes the match list instead.
            parts.append("+id IN (SELECT rowid FROM pairs_fts WHERE pairs_fts MATCH ?)")
            args.append(fts_query(self.search))
        return " AND ".join(parts) or "1", args


def as_filter(value: PairFilter | dict | None) -> PairFilter:
    if isinstance(value, PairFilter):
        return value
    return PairFilter.from_dict(value)


def fts_query(text: str) -> str:
    """A person's search words as a safe FTS5 query: every word must appear (prefix with *)."""
    terms = []
    for word in re.findall(r'[^\s"]+', text):
        prefix = word.endswith("*") and len(word) > 1
        word = word.rstrip("*")
        if word and re.search(r"\w", word):
            terms.append('"' + word + '"' + ("*" if prefix else ""))
    if not terms:
        raise StoreError(f"search {text!r} has no words to look for")
    return " ".join(terms)


LIST_COLUMNS = ("id, status, language, origin, labeller, repo_id, substr(instruction, 1, 160) AS instruction, "
                f"length(output) AS output_chars, {LENGTH_SQL} AS chars, dup_group, contaminated_by, flags, "
                "human_edits, revision, updated_at")


class PairQueriesMixin(StoreBase):
    def query_pairs(self, filter: PairFilter | dict | None = None, page: int = 1, page_size: int = 50,
                    order: str = "id") -> dict:
        """One page of pairs matching `filter` plus the total count, for the review table."""
        flt = as_filter(filter)
        if order not in ORDERS:
            raise StoreError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
        page, page_size = max(1, int(page)), max(1, min(int(page_size), 1000))
        where, args = flt.where()
        total = self.db.execute(f"SELECT count(*) FROM pairs WHERE {where}", args).fetchone()[0]
        pages = max(1, -(-total // page_size))
        page = min(page, pages)  # "next" on the last page stays there instead of showing nothing
        # The page's ids first, from the covering index ('+id': sort the matches rather than walk
        # the table in id order reading every row's text), then those rows.
        by = {"id": "+id", "-id": "+id DESC"}.get(order, ORDERS[order])
        ids = [r[0] for r in self.db.execute(f"SELECT id FROM pairs WHERE {where} ORDER BY {by} LIMIT ? OFFSET ?",
                                             [*args, page_size, (page - 1) * page_size])]
        cursor = self.db.execute(f"SELECT {LIST_COLUMNS} FROM pairs WHERE id IN ({','.join('?' * len(ids))})", ids)
        names = [d[0] for d in cursor.description]
        by_id = {r[0]: dict(zip(names, r)) for r in cursor.fetchall()}
        rows = [by_id[i] for i in ids]
        for r in rows:
            r["flags"] = from_json(r["flags"], [])
        return {"rows": rows, "total": total, "page": page, "pages": pages, "page_size": page_size}

    def pair_ids(self, filter: PairFilter | dict | None = None, order: str = "id") -> list[int]:
        where, args = as_filter(filter).where()
        return [r[0] for r in self.db.execute(
            f"SELECT id FROM pairs WHERE {where} ORDER BY {ORDERS[order]}", args)]

    def count_pairs(self, filter: PairFilter | dict | None = None) -> int:
        where, args = as_filter(filter).where()
        return int(self.db.execute(f"SELECT count(*) FROM pairs WHERE {where}", args).fetchone()[0])

    def neighbour_pair_id(self, filter: PairFilter | dict | None, pair_id: int | None,
                          forward: bool = True) -> int | None:
        """The pair after (or before) `pair_id` in id order among those matching the filter."""
        where, args = as_filter(filter).where()
        if pair_id is None:
            cmp, args2 = "1", []
        else:
            cmp, args2 = ("id > ?" if forward else "id < ?"), [int(pair_id)]
        row = self.db.execute(
            f"SELECT id FROM pairs WHERE {where} AND {cmp} ORDER BY id {'ASC' if forward else 'DESC'} LIMIT 1",
            [*args, *args2]).fetchone()
        return row[0] if row else None

    def get_pair(self, pair_id: int) -> dict:
        """Everything about one pair: its row, the snippet it came from, its repo, its history."""
        rows = list(self.db.query(
            "SELECT p.*, s.code AS snippet_code, s.path AS snippet_path, s.name AS snippet_name, "
            "s.kind AS snippet_kind, s.start_line AS snippet_start_line, s.docstring AS snippet_docstring, "
            "r.full_name AS repo_name, r.engine_version AS engine_version "
            "FROM pairs p LEFT JOIN snippets s ON s.id = p.snippet_id "
            "LEFT JOIN repos r ON r.id = COALESCE(p.repo_id, s.repo_id) WHERE p.id = ?", [int(pair_id)]))
        if not rows:
            raise NotFoundError(f"pair {pair_id} not found")
        pair = rows[0]
        pair["flags"] = from_json(pair["flags"], [])
        pair["edited_fields"] = from_json(pair.get("edited_fields"), [])
        return pair

    def pair_history(self, pair_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT id, field, before, after, at FROM pair_edits WHERE pair_id = ? ORDER BY id", [int(pair_id)]))

    def pair_stats(self, filter: PairFilter | dict | None = None) -> dict[str, Any]:
        """Counts by status/language/origin/labeller, flag counts and the lengths for histograms."""
        where, args = as_filter(filter).where()

        def counts(column: str) -> dict:
            return {(k if k is not None else "(none)"): n for k, n in self.db.execute(
                f"SELECT {column}, count(*) FROM pairs WHERE {where} GROUP BY {column} ORDER BY count(*) DESC",
                args)}

        flag_counts = {name: self.db.execute(
            f"SELECT count(*) FROM pairs WHERE {where} AND {FLAG_SQL[name]}", args).fetchone()[0]
            for name in ("duplicate", "contaminated", "filtered", "clean")}
        lengths = self.db.execute(
            f"SELECT length(instruction), length(output) FROM pairs WHERE {where}", args).fetchall()
        return {
            "total": len(lengths),
            "by_status": counts("status"), "by_language": counts("language"),
            "by_origin": counts("origin"), "by_labeller": counts("labeller"),
            "flags": flag_counts,
            "instruction_lengths": [r[0] for r in lengths],
            "output_lengths": [r[1] for r in lengths],
        }

    def distinct_pair_values(self, column: str) -> list[str]:
        """Values present for a filter dropdown (language, origin, labeller) or repo names."""
        if column == "repo":
            return [r[0] for r in self.db.execute(
                "SELECT DISTINCT r.full_name FROM repos r JOIN pairs p ON p.repo_id = r.id ORDER BY 1")]
        if column not in ("language", "origin", "labeller", "status"):
            raise StoreError(f"cannot list values of {column!r}")
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT {column} FROM pairs WHERE {column} IS NOT NULL ORDER BY 1")]
