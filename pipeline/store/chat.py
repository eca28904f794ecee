"""Store area: conversations, their messages, arena votes, and the pairs made from chat answers.

A conversation (`chats`) has a mode (single, side, battle), the models of its columns and a system
prompt. Every user message has a `turn`; each column's answer to it carries the same turn and its
`col` (0..3), plus how it ended (done, stopped, error) so a partial answer is kept with its error.
A vote is one row per battle turn and keeps the prompt and both answers, so the leaderboard never
depends on a conversation that was later deleted. The unique index on (chat, turn) is the
compare-and-set: two browser tabs voting on the same battle cannot both count.
"""
from __future__ import annotations

import hashlib

from pipeline.store.base import ConflictError, NotFoundError, StoreBase, StoreError, from_json, inserted_id, to_json

CHAT_MODES = ("single", "side", "battle")
WINNERS = ("a", "b", "tie", "both_bad")
ANSWER_STATUSES = ("done", "stopped", "error")

MIGRATIONS: list = [
    ("0401_chat_columns", """
        ALTER TABLE chats ADD COLUMN mode TEXT NOT NULL DEFAULT 'single';
        ALTER TABLE chats ADD COLUMN system TEXT NOT NULL DEFAULT '';
        ALTER TABLE chats ADD COLUMN updated_at TEXT;
        ALTER TABLE messages ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN col INTEGER;
        ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'done';
        ALTER TABLE messages ADD COLUMN error TEXT;
        ALTER TABLE messages ADD COLUMN settings TEXT;
        ALTER TABLE messages ADD COLUMN trimmed INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX messages_chat ON messages(chat_id, turn);
        ALTER TABLE votes ADD COLUMN turn INTEGER;
        ALTER TABLE votes ADD COLUMN mode TEXT NOT NULL DEFAULT 'battle';
        ALTER TABLE votes ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
        ALTER TABLE votes ADD COLUMN answer_a TEXT NOT NULL DEFAULT '';
        ALTER TABLE votes ADD COLUMN answer_b TEXT NOT NULL DEFAULT '';
        CREATE UNIQUE INDEX votes_once ON votes(chat_id, turn) WHERE chat_id IS NOT NULL;
        CREATE TABLE chat_pairs (
            pair_id INTEGER PRIMARY KEY REFERENCES pairs(id),
            chat_id INTEGER NOT NULL,              -- no FK: the pair outlives a deleted conversation
            message_id INTEGER,
            model TEXT,
            corrected INTEGER NOT NULL DEFAULT 0   -- 1 when a person edited the answer first
        );
    """),
]


class ChatMixin(StoreBase):
    # -- conversations ------------------------------------------------------------------------
    def create_chat(self, models: list[str], *, mode: str = "single", system: str = "",
                    title: str | None = None, params: dict | None = None, owner: str | None = None) -> int:
        """A new conversation's id; with `owner` (an arena conversation's session) the owner is
        written in the same transaction (chat_owners)."""
        if mode not in CHAT_MODES:
            raise StoreError(f"unknown chat mode {mode!r}; use one of {', '.join(CHAT_MODES)}")
        with self.tx() as db:
            chat_id = inserted_id(db.table("chats").insert({
                "models": to_json(list(models)), "mode": mode, "system": system or "",
                "title": title, "params": to_json(params or {})}))
            if owner is not None:
                self.set_chat_owner(chat_id, owner)
            return chat_id

    def get_chat(self, chat_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM chats WHERE id = ?", [chat_id]))
        if not rows:
            raise NotFoundError(f"conversation {chat_id} not found")
        chat = rows[0]
        chat["models"] = from_json(chat["models"], [])
        chat["params"] = from_json(chat["params"], {})
        chat["voted"] = self.db.execute("SELECT 1 FROM votes WHERE chat_id = ? LIMIT 1", [chat_id]).fetchone() is not None
        chat["messages"] = [dict(m, settings=from_json(m["settings"], {})) for m in self.db.query(
            "SELECT * FROM messages WHERE chat_id = ? ORDER BY turn, col IS NOT NULL, col, id", [chat_id])]
        return chat

    def list_chats(self, limit: int = 100) -> list[dict]:
        rows = self.db.query(
            "SELECT c.id, c.title, c.mode, c.models, c.created_at, COALESCE(c.updated_at, c.created_at) AS updated_at, "
            "(SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.role = 'user') AS turns, "
            "EXISTS (SELECT 1 FROM votes v WHERE v.chat_id = c.id) AS voted "
            "FROM chats c ORDER BY COALESCE(c.updated_at, c.created_at) DESC, c.id DESC LIMIT ?", [limit])
        return [dict(r, models=from_json(r["models"], []), voted=bool(r["voted"])) for r in rows]

    def delete_chat(self, chat_id: int) -> None:
        """Delete a conversation and its messages; its votes and the pairs made from it stay."""
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM chats WHERE id = ?", [chat_id]).fetchone():
                raise NotFoundError(f"conversation {chat_id} not found")
            db.execute("UPDATE votes SET chat_id = NULL WHERE chat_id = ?", [chat_id])
            db.execute("DELETE FROM messages WHERE chat_id = ?", [chat_id])
            db.execute("DELETE FROM chats WHERE id = ?", [chat_id])

    def set_chat_title(self, chat_id: int, title: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", [title, chat_id])

    # -- messages -----------------------------------------------------------------------------
    def next_turn(self, chat_id: int) -> int:
        row = self.db.execute("SELECT MAX(turn) FROM messages WHERE chat_id = ?", [chat_id]).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def add_message(self, chat_id: int, role: str, content: str, *, turn: int, model: str | None = None,
                    col: int | None = None, status: str = "done", error: str | None = None,
                    settings: dict | None = None, trimmed: int = 0) -> int:
        if status not in ANSWER_STATUSES:
            raise StoreError(f"unknown answer status {status!r}")
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM chats WHERE id = ?", [chat_id]).fetchone():
                raise NotFoundError(f"conversation {chat_id} not found (deleted in another tab?)")
            pk = inserted_id(db.table("messages").insert({"chat_id": chat_id, "role": role, "content": content, "turn": turn,
                                        "model": model, "col": col, "status": status, "error": error,
                                        "settings": to_json(settings), "trimmed": trimmed}))
            db.execute("UPDATE chats SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
                       [chat_id])
        return pk

    def delete_answers(self, chat_id: int, turn: int, col: int | None = None) -> int:
        """Drop the answers of one turn (Regenerate); the user's message stays."""
        where, args = "chat_id = ? AND turn = ? AND role = 'assistant'", [chat_id, turn]
        if col is not None:
            where, args = where + " AND col = ?", args + [col]
        with self.tx() as db:
            if db.execute("SELECT 1 FROM votes WHERE chat_id = ? AND turn = ?", [chat_id, turn]).fetchone():
                raise ConflictError("this battle turn has been voted on; its answers can no longer change")
            return db.execute(f"DELETE FROM messages WHERE {where}", args).rowcount

    def get_message(self, message_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM messages WHERE id = ?", [message_id]))
        if not rows:
            raise NotFoundError(f"message {message_id} not found")
        return rows[0]

    # -- votes --------------------------------------------------------------------------------
    def record_vote(self, chat_id: int | None, turn: int | None, model_a: str, model_b: str, winner: str, *,
                    prompt: str = "", answer_a: str = "", answer_b: str = "", mode: str = "battle",
                    voter: str | None = None) -> int:
        """Store one vote (a battle's turn is voted on once) with its voter (an arena visitor's
        anonymous id or a login; None for the studio's own Chat tab). Returns its id."""
        if winner not in WINNERS:
            raise StoreError(f"unknown vote {winner!r}; use one of {', '.join(WINNERS)}")
        if model_a == model_b:
            raise StoreError("a vote needs two different models")
        with self.tx() as db:
            if chat_id is not None and db.execute(
                    "SELECT 1 FROM votes WHERE chat_id = ? AND turn = ?", [chat_id, turn]).fetchone():
                raise ConflictError("this battle has already been voted on (in this or another tab)")
            return inserted_id(db.table("votes").insert({"chat_id": chat_id, "turn": turn, "model_a": model_a, "model_b": model_b,
                                       "winner": winner, "prompt": prompt, "answer_a": answer_a,
                                       "answer_b": answer_b, "mode": mode, "voter": voter}))

    def list_votes(self) -> list[dict]:
        from pipeline.store.arena import COUNTED  # votes of voters the owner excluded do not count

        return list(self.db.query("SELECT id, chat_id, turn, model_a, model_b, winner, mode, at FROM votes "
                                  f"WHERE {COUNTED} ORDER BY id"))

    def vote_for_turn(self, chat_id: int, turn: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM votes WHERE chat_id = ? AND turn = ?", [chat_id, turn]))
        return rows[0] if rows else None

    # -- back into the data -------------------------------------------------------------------
    def pair_from_chat(self, message_id: int, *, instruction: str | None = None,
                       output: str | None = None) -> int:
        """A draft pair (origin 'chat') from an answer, or from a person's corrected version of it.
        The same text sent twice is one pair; a different correction is a new one."""
        answer = self.get_message(message_id)
        if answer["role"] != "assistant":
            raise StoreError("only a model's answer can become a pair")
        if instruction is None:
            rows = self.db.execute("SELECT content FROM messages WHERE chat_id = ? AND turn = ? AND role = 'user' "
                                   "ORDER BY id LIMIT 1", [answer["chat_id"], answer["turn"]]).fetchone()
            instruction = rows[0] if rows else ""
        final = answer["content"] if output is None else output
        if not instruction.strip() or not final.strip():
            raise StoreError("a pair needs a non-empty instruction and output")
        digest = hashlib.sha256(f"{instruction}\0{final}".encode()).hexdigest()[:16]
        ref = f"chat:{answer['chat_id']}:{message_id}:{digest}"
        with self.tx() as db:
            self.insert_imported_pairs([{"instruction": instruction, "output": final, "origin": "chat",
                                         "labeller": answer["model"], "import_ref": ref}])
            pair_id: int = db.execute("SELECT id FROM pairs WHERE import_ref = ?", [ref]).fetchone()[0]
            db.execute("INSERT OR IGNORE INTO chat_pairs (pair_id, chat_id, message_id, model, corrected) "
                       "VALUES (?, ?, ?, ?, ?)",
                       [pair_id, answer["chat_id"], message_id, answer["model"], int(final != answer["content"])])
        return pair_id

    def chat_pair_provenance(self, pair_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM chat_pairs WHERE pair_id = ?", [pair_id]))
        if not rows:
            raise NotFoundError(f"pair {pair_id} was not made from a chat")
        return rows[0]
