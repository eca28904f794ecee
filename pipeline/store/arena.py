"""Store area: the public arena: which models the owner published, who owns a conversation,
whose votes the owner excluded.

A vote carries its voter (`votes.voter`: the anonymous session id of a visitor, or a login), so
the owner can exclude one visitor's votes without deleting them: excluded voters are a table,
and the leaderboard's queries (`list_votes`, `vote_tallies`) skip their votes.
"""
from __future__ import annotations

from pipeline.store.base import NotFoundError, StoreBase, StoreError

MIGRATIONS: list = [
    ("2101_public_arena", """
        ALTER TABLE votes ADD COLUMN voter TEXT;
        CREATE TABLE arena_models (
            name TEXT PRIMARY KEY,                 -- a registered model the owner published
            published_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE TABLE chat_owners (
            chat_id INTEGER PRIMARY KEY,           -- a conversation started in the arena
            session TEXT NOT NULL                  -- the anonymous session (or login) that started it
        );
        CREATE TABLE excluded_voters (
            voter TEXT PRIMARY KEY,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
    """),
]

# The filter every leaderboard query applies (votes of excluded voters do not count).
COUNTED = "(voter IS NULL OR voter NOT IN (SELECT voter FROM excluded_voters))"


class ArenaMixin(StoreBase):
    def publish_model(self, name: str, published: bool = True) -> None:
        self.get_model(name)   # NotFoundError for an unknown name
        with self.tx() as db:
            if published:
                db.execute("INSERT OR IGNORE INTO arena_models(name) VALUES (?)", [name])
            else:
                db.execute("DELETE FROM arena_models WHERE name = ?", [name])

    def published_models(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT a.name FROM arena_models a JOIN models m ON m.name = a.name ORDER BY a.name").fetchall()]

    def set_chat_owner(self, chat_id: int, session: str) -> None:
        if not session:
            raise StoreError("an arena conversation needs the session that owns it")
        with self.tx() as db:
            db.execute("INSERT INTO chat_owners(chat_id, session) VALUES (?, ?)", [chat_id, session])

    def chat_owner(self, chat_id: int) -> str | None:
        row = self.db.execute("SELECT session FROM chat_owners WHERE chat_id = ?", [chat_id]).fetchone()
        return row[0] if row else None

    def arena_votes(self, limit: int = 1000) -> list[dict]:
        """The newest votes with their voter and whether they count, for the owner's view."""
        return list(self.db.query(
            "SELECT id, at, voter, mode, model_a, model_b, winner, substr(prompt, 1, 120) AS prompt, "
            f"CASE WHEN {COUNTED} THEN 1 ELSE 0 END AS counted FROM votes ORDER BY id DESC LIMIT ?", [limit]))

    def exclude_voter(self, voter: str, excluded: bool = True) -> int:
        """Exclude (or count again) every vote of `voter`; returns how many votes that touches."""
        if not (voter or "").strip():
            raise StoreError("name the voter (the session id shown in the votes table)")
        with self.tx() as db:
            n: int = db.execute("SELECT COUNT(*) FROM votes WHERE voter = ?", [voter]).fetchone()[0]
            if not n:
                raise NotFoundError(f"no votes from {voter!r}")
            if excluded:
                db.execute("INSERT OR IGNORE INTO excluded_voters(voter) VALUES (?)", [voter])
            else:
                db.execute("DELETE FROM excluded_voters WHERE voter = ?", [voter])
        return n

    def count_votes(self, counted_only: bool = False) -> int:
        where = f" WHERE {COUNTED}" if counted_only else ""
        return int(self.db.execute(f"SELECT COUNT(*) FROM votes{where}").fetchone()[0])
