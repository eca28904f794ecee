"""Store area: arena votes brought from elsewhere (FastChat battle records) and the extra fields
FastChat's format carries. A vote cast here keeps `source` NULL; an imported one records the file
it came from and a content key, so importing the same file twice adds nothing."""
from __future__ import annotations

from pipeline.store.base import StoreBase, StoreError, to_json

MIGRATIONS: list = [
    ("2502_votes_imported", """
        ALTER TABLE votes ADD COLUMN source TEXT;        -- NULL: voted here; else the imported file
        ALTER TABLE votes ADD COLUMN import_ref TEXT;    -- content key: re-import is a no-op
        ALTER TABLE votes ADD COLUMN extra TEXT;         -- JSON: judge, language, tstamp, conversations
        CREATE UNIQUE INDEX votes_import_ref ON votes(import_ref) WHERE import_ref IS NOT NULL;
    """),
]

VOTE_FIELDS = ("turn", "model_a", "model_b", "winner", "prompt", "answer_a", "answer_b", "mode", "source",
               "import_ref", "extra")


class VotesExchangeMixin(StoreBase):
    def insert_imported_votes(self, rows: list[dict]) -> tuple[int, int]:
        """(inserted, already present). Each row: VOTE_FIELDS (extra a dict), no chat."""
        if not rows:
            return 0, 0
        for r in rows:
            if not r.get("import_ref") or not r.get("source"):
                raise StoreError("an imported vote needs its source and import_ref")
        with self.tx() as db:
            inserted = db.conn.executemany(
                f"INSERT OR IGNORE INTO votes ({', '.join(VOTE_FIELDS)}) VALUES ({', '.join('?' * len(VOTE_FIELDS))})",
                [tuple(to_json(r.get(f)) if f == "extra" else r.get(f) for f in VOTE_FIELDS) for r in rows]).rowcount
        return inserted, len(rows) - inserted

    def votes_for_export(self) -> list[dict]:
        """Every vote with what an export needs (its chat, when it still exists)."""
        return list(self.db.query("SELECT * FROM votes ORDER BY id"))

    def imported_vote_counts(self) -> dict[str, int]:
        """Model name → how many of its battles were imported."""
        counts: dict[str, int] = {}
        for a, b in self.db.execute("SELECT model_a, model_b FROM votes WHERE source IS NOT NULL").fetchall():
            counts[a] = counts.get(a, 0) + 1
            counts[b] = counts.get(b, 0) + 1
        return counts
