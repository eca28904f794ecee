"""Pair review, edits with history, cleaning flags, import and frozen datasets.

Concurrency between a person reviewing in the Pairs tab and a labelling job writing the same
table is settled per field, so neither side ever loses work:

- A person's edit (`edit_pair`) names the text it was based on (`seen`, or the row `revision`).
  If another writer changed a field the edit touches since then, ConflictError is raised and
  nothing is written (the UI keeps the typed text); changes to *other* fields don't conflict.
- Fields a person edited are listed in `pairs.edited_fields`. Machine writers fill labels with
  `fill_label`, which skips those fields (and the text of pairs a person already approved or
  rejected). A trigger backs this up for any writer: an UPDATE that would overwrite a
  human-edited field without being a human edit (`human_edits` unchanged) is aborted.
- Every human change is a `pair_edits` row (field, before, after), which gives the history and
  the label-vs-edit diff.
"""
from __future__ import annotations

import difflib
import json
from collections.abc import Callable

from sqlite_utils import Database

from pipeline.store.base import ConflictError, NotFoundError, StoreError, now_iso
from pipeline.store.pairs_datasets import DatasetsMixin, backfill_snapshots
from pipeline.store.pairs_flags import PairFlagsMixin
from pipeline.store.pairs_query import (  # noqa: F401  (re-exported for callers)
    FLAG_CHOICES,
    LENGTH_SQL,
    STATUSES,
    TEXT_FIELDS,
    PairFilter,
    PairQueriesMixin,
    as_filter,
)

_FTS_TEXT_ONLY = [
    # sqlite-utils' trigger re-indexes on *any* update; status and flag writes don't touch text.
    "DROP TRIGGER IF EXISTS pairs_au",
    """CREATE TRIGGER "pairs_au" AFTER UPDATE OF instruction, input, output ON "pairs" BEGIN
  INSERT INTO "pairs_fts" ("pairs_fts", rowid, "instruction", "input", "output")
    VALUES('delete', old.rowid, old."instruction", old."input", old."output");
  INSERT INTO "pairs_fts" (rowid, "instruction", "input", "output")
    VALUES (new.rowid, new."instruction", new."input", new."output");
END""",
]

_REVIEW_COLUMNS = [
    "ALTER TABLE pairs ADD COLUMN edited_fields TEXT",              # JSON list: fields a person changed
    "ALTER TABLE pairs ADD COLUMN human_edits INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE pairs ADD COLUMN import_ref TEXT",                 # file fingerprint + line: re-import is a no-op
    "CREATE UNIQUE INDEX pairs_import_ref ON pairs(import_ref) WHERE import_ref IS NOT NULL",
    "CREATE INDEX pairs_language ON pairs(language)",
    "CREATE INDEX pairs_origin ON pairs(origin)",
    "CREATE INDEX pairs_repo ON pairs(repo_id)",
    "CREATE INDEX pairs_labeller ON pairs(labeller)",
    "CREATE INDEX pairs_dup_group ON pairs(dup_group) WHERE dup_group IS NOT NULL",
    f"CREATE INDEX pairs_total_len ON pairs{LENGTH_SQL}",
    "CREATE INDEX pair_edits_pair ON pair_edits(pair_id)",
    "ALTER TABLE datasets ADD COLUMN content_hash TEXT",            # sha256 of the frozen pairs' text
    "ALTER TABLE datasets ADD COLUMN size INTEGER",
    """CREATE TRIGGER pairs_keep_human_edits BEFORE UPDATE OF instruction, input, output ON pairs
WHEN NEW.human_edits = OLD.human_edits AND OLD.edited_fields IS NOT NULL AND (
     (NEW.instruction IS NOT OLD.instruction AND instr(OLD.edited_fields, '"instruction"') > 0)
  OR (NEW.input IS NOT OLD.input AND instr(OLD.edited_fields, '"input"') > 0)
  OR (NEW.output IS NOT OLD.output AND instr(OLD.edited_fields, '"output"') > 0))
BEGIN
  SELECT RAISE(ABORT, 'a person edited this pair''s text; machine writes must keep it (use Store.fill_label)');
END""",
]


_REVIEW_INDEX = [
    # One covering index for every review filter: counts and page ids for any mix of filters are
    # answered from it without reading the pairs' text, so a page costs the same for 2 KB or 20 KB
    # pairs. It replaces the single-column indexes of 0401 (pairs_repo stays: repos' foreign key).
    "DROP INDEX IF EXISTS pairs_language",
    "DROP INDEX IF EXISTS pairs_origin",
    "DROP INDEX IF EXISTS pairs_labeller",
    f"CREATE INDEX pairs_review ON pairs(status, language, origin, labeller, repo_id, snippet_id, dup_group, "
    f"contaminated_by, flags, {LENGTH_SQL})",
]


def _statements(statements: list[str]) -> Callable[[Database], None]:
    # A callable step: trigger bodies contain ';', which the plain-SQL splitter would cut.
    def step(db: Database) -> None:
        for sql in statements:
            db.execute(sql)
    return step


# Schema steps this area adds on top of schema.INITIAL: (unique name, sql or callable(db)).
MIGRATIONS: list = [
    ("0400_pairs_fts_text_only", _statements(_FTS_TEXT_ONLY)),
    ("0401_pairs_review_columns", _statements(_REVIEW_COLUMNS)),
    ("0402_pairs_review_index", _statements(_REVIEW_INDEX)),
    ("0403_dataset_snapshots", backfill_snapshots),  # frozen text, not just ids (pairs_datasets)
]

STATUS_ACTIONS = {"approve": "approved", "reject": "rejected", "draft": "draft"}


class PairsMixin(PairQueriesMixin, PairFlagsMixin, DatasetsMixin):
    # -- human edits --------------------------------------------------------------------------
    def edit_pair(self, pair_id: int, changes: dict[str, str] | None = None, *,
                  status: str | None = None, seen: dict[str, str] | None = None,
                  revision: int | None = None) -> dict:
        """A person's edit of instruction/input/output and/or status, in one transaction.

        `seen` maps each text field to the value the person was looking at; an edit conflicts only
        if a field it changes (or, for a status change, any text field) differs from that now.
        Without `seen`, `revision` must equal the row's current revision.
        """
        changes = dict(changes or {})
        unknown = set(changes) - set(TEXT_FIELDS)
        if unknown:
            raise StoreError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(TEXT_FIELDS)}")
        if status is not None and status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        with self.tx() as db:
            row = self._pair_row(db, pair_id)
            self._check_conflict(row, changes, status, seen, revision)
            changed = {f: (v or "") for f, v in changes.items() if (v or "") != row[f]}
            if changed and status is None and row["status"] == "failed":
                status = "draft"  # a person wrote the text: a labelling retry must leave it alone
            after = {**row, **changed}
            if status in ("approved",) and not (after["instruction"].strip() and after["output"].strip()):
                raise StoreError(f"pair {pair_id} needs an instruction and an output before it can be approved")
            edits = [(f, row[f], v) for f, v in changed.items()]
            if status is not None and status != row["status"]:
                edits.append(("status", row["status"], status))
            if not edits:
                return self.get_pair(pair_id)
            sets = {**changed, "updated_at": now_iso()}
            if status is not None:
                sets["status"] = status
            if changed:
                sets["edited_fields"] = json.dumps(sorted(set(_json_list(row["edited_fields"])) | set(changed)))
            assignments = ", ".join(f"{k} = ?" for k in sets)
            human = ", human_edits = human_edits + 1" if changed else ""
            db.execute(f"UPDATE pairs SET {assignments}, revision = revision + 1{human} WHERE id = ?",
                       [*sets.values(), int(pair_id)])
            db.conn.executemany("INSERT INTO pair_edits (pair_id, field, before, after, at) VALUES (?, ?, ?, ?, ?)",
                                [(int(pair_id), f, b, a, now_iso()) for f, b, a in edits])
        return self.get_pair(pair_id)

    def set_pair_status(self, pair_id: int, status: str, *, seen: dict[str, str] | None = None) -> dict:
        return self.edit_pair(pair_id, status=status, seen=seen)

    @staticmethod
    def _pair_row(db: Database, pair_id: int) -> dict:
        cur = db.execute("SELECT id, instruction, input, output, status, revision, edited_fields "
                         "FROM pairs WHERE id = ?", [int(pair_id)])
        values = cur.fetchone()
        if values is None:
            raise NotFoundError(f"pair {pair_id} not found")
        return dict(zip([d[0] for d in cur.description], values))

    @staticmethod
    def _check_conflict(row: dict, changes: dict, status: str | None, seen: dict | None,
                        revision: int | None) -> None:
        if seen is not None:
            # A status decision is about the text the person read, so it checks all of it.
            watched = list(changes) + (list(TEXT_FIELDS) if status is not None else [])
            moved = [f for f in dict.fromkeys(watched) if f in seen and (seen[f] or "") != row[f]]
            unseen = [f for f in changes if f not in seen]
            if unseen and revision is None:
                raise StoreError(f"edit of {', '.join(unseen)} needs the text it was based on (seen) or a revision")
            if unseen and revision != row["revision"]:
                moved += unseen
            if moved:
                raise ConflictError(
                    f"pair {row['id']}: {', '.join(moved)} changed since you opened it (now revision "
                    f"{row['revision']}); nothing was saved — reload the pair and apply your edit again")
        elif revision is not None and revision != row["revision"]:
            raise ConflictError(
                f"pair {row['id']} changed since revision {revision} (now {row['revision']}); "
                "nothing was saved — reload it and apply your edit again")

    def bulk_set_status(self, filter: PairFilter | dict | None, status: str) -> dict:
        """Set the status of every pair matching the filter; returns counts. Approving skips
        pairs without an instruction or output (they are counted, not changed)."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        where, args = as_filter(filter).where()
        scope = f"WHERE ({where}) AND status != ?"
        empty = "(trim(instruction) = '' OR trim(output) = '')"
        with self.tx() as db:
            skipped = 0
            if status == "approved":
                skipped = db.execute(f"SELECT count(*) FROM pairs {scope} AND {empty}", [*args, status]).fetchone()[0]
                scope += f" AND NOT {empty}"
            now = now_iso()
            db.execute(f"INSERT INTO pair_edits (pair_id, field, before, after, at) "
                       f"SELECT id, 'status', status, ?, ? FROM pairs {scope}", [status, now, *args, status])
            changed = db.execute(f"UPDATE pairs SET status = ?, revision = revision + 1, updated_at = ? {scope}",
                                 [status, now, *args, status]).rowcount
        return {"changed": changed, "skipped_empty": skipped}

    # -- machine writes -----------------------------------------------------------------------
    def fill_label(self, pair_id: int, values: dict) -> list[str]:
        """Write a machine label into an existing pair without touching a person's work.

        Text fields a person edited, and the text of pairs a person approved or rejected, are
        kept; the other columns (raw reply, tokens, cost, ...) are written. `status` is only
        taken while the pair is still draft or failed. Returns the fields that were kept.
        """
        reserved = {"id", "revision", "human_edits", "edited_fields", "created_at"}
        if reserved & set(values):
            raise StoreError(f"fill_label cannot write {', '.join(sorted(reserved & set(values)))}")
        with self.tx() as db:
            row = self._pair_row(db, pair_id)
            decided = row["status"] in ("approved", "rejected")
            protected = set(_json_list(row["edited_fields"])) | (set(TEXT_FIELDS) if decided else set())
            kept = sorted(f for f in values if f in protected and f in TEXT_FIELDS)
            if "status" in values and row["status"] not in ("draft", "failed"):
                kept.append("status")
            sets = {k: v for k, v in values.items() if k not in kept}
            sets["updated_at"] = now_iso()
            assignments = ", ".join(f"{k} = ?" for k in sets)
            db.execute(f"UPDATE pairs SET {assignments}, revision = revision + 1 WHERE id = ?",
                       [*sets.values(), int(pair_id)])
        return kept

    # -- history ------------------------------------------------------------------------------
    def label_diff(self, pair_id: int) -> dict[str, str]:
        """For each text field a person changed: a unified diff from the machine label to now."""
        pair = self.get_pair(pair_id)
        first_before: dict[str, str] = {}
        for edit in self.pair_history(pair_id):
            if edit["field"] in TEXT_FIELDS:
                first_before.setdefault(edit["field"], edit["before"] or "")
        diffs = {}
        for name, original in first_before.items():
            current = pair[name] or ""
            if original != current:
                diffs[name] = "\n".join(difflib.unified_diff(
                    original.splitlines(), current.splitlines(), fromfile=f"{name} (label)",
                    tofile=f"{name} (edited)", n=2, lineterm=""))
        return diffs


def _json_list(value: str | list | None) -> list:
    if not value:
        return []
    return value if isinstance(value, list) else json.loads(value)
