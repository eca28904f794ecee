"""Cleaning flags (duplicate group, contamination, filter flags), imported rows and the read-only
view of eval suites that decontamination needs. Flags never delete: clearing them restores
every pair exactly as it was."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from pipeline.store.base import StoreBase, StoreError, now_iso
from pipeline.store.pairs_query import FLAG_SQL, PairFilter, as_filter

FLAG_KINDS = ("duplicate", "contaminated", "filtered")
_FLAG_COLUMN = {"duplicate": "dup_group", "contaminated": "contaminated_by", "filtered": "flags"}
IMPORT_COLUMNS = ("instruction", "input", "output", "origin", "language", "status", "path",
                  "labeller", "import_ref", "scrub", "messages")  # messages: conversations only (store.conversations)


class PairFlagsMixin(StoreBase):
    def iter_pair_texts(self, filter: PairFilter | dict | None = None, batch_size: int = 5000
                        ) -> Iterator[list[dict]]:
        """Batches of (id, instruction, input, output, status, human_edits, language) in id order,
        read by keyset so a 100k-row scan holds one batch in memory at a time."""
        where, args = as_filter(filter).where()
        last = 0
        while True:
            cur = self.db.execute(
                "SELECT id, instruction, input, output, status, human_edits, language, messages FROM pairs "
                f"WHERE ({where}) AND id > ? ORDER BY id LIMIT ?", [*args, last, batch_size])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

    def clear_flags(self, kind: str, filter: PairFilter | dict | None = None) -> int:
        """Undo a cleaning step for the pairs in `filter` ('all' = every kind). Returns rows changed."""
        kinds = FLAG_KINDS if kind == "all" else (kind,)
        if any(k not in FLAG_KINDS for k in kinds):
            raise StoreError(f"unknown flag kind {kind!r}; use one of {', '.join(FLAG_KINDS)} or all")
        where, args = as_filter(filter).where()
        changed = 0
        with self.tx() as db:
            for k in kinds:
                column = _FLAG_COLUMN[k]
                scope = f"{column} IS NOT NULL AND (id IN (SELECT id FROM pairs WHERE {where})"
                if k == "duplicate":  # members outside the scope whose kept pair is inside it
                    scope += f" OR dup_group IN (SELECT id FROM pairs WHERE {where})"
                    args_k = [*args, *args]
                else:
                    args_k = list(args)
                changed += db.execute(
                    f"UPDATE pairs SET {column} = NULL, revision = revision + 1, updated_at = ? "
                    f"WHERE {scope})", [now_iso(), *args_k]).rowcount
        return changed

    def replace_flags(self, scope: PairFilter | dict | None, *, dup_groups: dict[int, int] | None = None,
                      contaminated: dict[int, str] | None = None,
                      filtered: dict[int, list[str]] | None = None) -> None:
        """A cleaning run's result, in one transaction: for each kind given (not None), the flags
        of that kind on the pairs in `scope` are cleared and the new ones set."""
        with self.tx():
            if dup_groups is not None:
                self.clear_flags("duplicate", scope)
                self.set_dup_groups(dup_groups)
            if contaminated is not None:
                self.clear_flags("contaminated", scope)
                self.set_contaminated(contaminated)
            if filtered is not None:
                self.clear_flags("filtered", scope)
                self.set_filter_flags(filtered)

    def set_dup_groups(self, groups: dict[int, int]) -> None:
        """pair id -> id of the pair kept for its group (the kept pair maps to itself)."""
        self._set_column("dup_group", groups.items())

    def set_contaminated(self, hits: dict[int, str]) -> None:
        """pair id -> the eval item(s) it matched, e.g. 'humaneval:HumanEval/12'."""
        self._set_column("contaminated_by", hits.items())

    def set_filter_flags(self, flags: dict[int, list[str]]) -> None:
        self._set_column("flags", ((pid, json.dumps(sorted(f))) for pid, f in flags.items() if f))

    def _set_column(self, column: str, items: Iterable[tuple[int, object]]) -> None:
        now = now_iso()
        with self.tx() as db:
            db.conn.executemany(
                f"UPDATE pairs SET {column} = ?, revision = revision + 1, updated_at = ? WHERE id = ?",
                [(value, now, int(pid)) for pid, value in items])

    def flag_count(self, kind: str, filter: PairFilter | dict | None = None) -> int:
        where, args = as_filter(filter).where()
        return int(self.db.execute(f"SELECT count(*) FROM pairs WHERE ({where}) AND {FLAG_SQL[kind]}",
                                   args).fetchone()[0])

    # -- import -------------------------------------------------------------------------------
    def insert_imported_pairs(self, rows: list[dict]) -> tuple[int, int]:
        """Insert rows (keys from IMPORT_COLUMNS); a row whose import_ref exists already is skipped,
        so importing the same file again, or resuming an import, adds nothing twice."""
        if not rows:
            return 0, 0
        bad = {k for r in rows for k in r} - set(IMPORT_COLUMNS)
        if bad:
            raise StoreError(f"cannot import column(s) {', '.join(sorted(bad))}")
        placeholders = ", ".join("?" * len(IMPORT_COLUMNS))
        defaults = {"instruction": "", "input": "", "output": "", "origin": "import", "status": "draft"}
        with self.tx() as db:
            # executemany sums each statement's own changes (not its FTS trigger's): rows inserted.
            inserted = db.conn.executemany(
                f"INSERT OR IGNORE INTO pairs ({', '.join(IMPORT_COLUMNS)}) VALUES ({placeholders})",
                [tuple(r.get(c) if r.get(c) is not None else defaults.get(c) for c in IMPORT_COLUMNS)
                 for r in rows]).rowcount
        return inserted, len(rows) - inserted

    # -- eval suites (read-only; pipeline.store.evals owns these tables) ----------------------
    def eval_suite_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM suites ORDER BY name")]

    def eval_suite_tasks(self, name: str) -> list[dict]:
        rows = list(self.db.query(
            "SELECT t.task_id, t.prompt, t.canonical_solution FROM suite_tasks t "
            "JOIN suites s ON s.id = t.suite_id WHERE s.name = ? ORDER BY t.id", [name]))
        if not rows and name not in self.eval_suite_names():
            raise StoreError(f"no eval suite named {name!r}; imported suites: "
                             f"{', '.join(self.eval_suite_names()) or 'none'}")
        return rows
