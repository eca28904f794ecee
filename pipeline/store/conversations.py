"""Store area: conversation pairs (a pair's `messages`) and chat conversations sent to the data.

A single-turn pair keeps `messages` NULL (every older path reads it as before); a conversation
stores its messages as JSON, and its instruction/output mirror the first user turn and the last
assistant turn (search, lists, length filters). Frozen datasets copy `messages` into their
snapshot in the freeze's own transaction, so a later edit cannot change a frozen conversation.
Editing a conversation follows the pairs' review rules: a compare-and-set on the revision the
person read, a `pair_edits` row (field 'messages', before/after JSON), `edited_fields` updated.
"""
from __future__ import annotations

import hashlib
import json

from sqlite_utils import Database

from pipeline.store.base import ConflictError, NotFoundError, StoreBase, StoreError, now_iso

MIGRATIONS: list = [
    ("2501_pair_messages", """
        ALTER TABLE pairs ADD COLUMN messages TEXT;
        ALTER TABLE dataset_examples ADD COLUMN messages TEXT;
        ALTER TABLE chat_pairs ADD COLUMN context TEXT;  -- conversation | turn_only (the note shown)
    """),
    ("2503_judge_item_turns", """
        ALTER TABLE judge_items ADD COLUMN turns TEXT;   -- JSON: every question of a multi-turn item
        ALTER TABLE judge_items ADD COLUMN refs TEXT;    -- JSON: a reference answer per turn
    """),
    # instruction/output of a conversation only mirror its messages: a write to them that leaves
    # the messages as they were would make the two disagree (training reads the messages).
    ("2504_conversation_mirror_guard", lambda db: db.execute(
        """CREATE TRIGGER pairs_conversation_mirror BEFORE UPDATE OF instruction, input, output ON pairs
WHEN OLD.messages IS NOT NULL AND NEW.messages IS OLD.messages AND (NEW.instruction IS NOT OLD.instruction
     OR NEW.input IS NOT OLD.input OR NEW.output IS NOT OLD.output)
BEGIN
  SELECT RAISE(ABORT, 'this pair is a conversation: edit its messages (Store.edit_pair_messages)');
END""")),
]


def _has_messages(db: Database) -> bool:
    # A snapshot table rebuilt by an older step (0403 re-run on a rolled-back file) lacks the column.
    return any(r[1] == "messages" for r in db.execute("PRAGMA table_info(dataset_examples)").fetchall())


def copy_snapshot_messages(db: Database, dataset_id: int) -> None:
    """Called inside the freeze's transaction, right after the snapshot rows are written."""
    if not _has_messages(db):
        return
    db.execute("UPDATE dataset_examples SET messages = (SELECT p.messages FROM pairs p WHERE p.id = "
               "dataset_examples.pair_id) WHERE dataset_id = ?", [int(dataset_id)])


def add_snapshot_messages(db: Database, dataset_id: int, rows: list[dict]) -> None:
    """Give each frozen conversation its `messages` list; single-turn examples stay as they were."""
    if not _has_messages(db):
        return
    stored = dict(db.execute("SELECT pair_id, messages FROM dataset_examples WHERE dataset_id = ? "
                             "AND messages IS NOT NULL", [int(dataset_id)]).fetchall())
    for row in rows:
        if row["pair_id"] in stored:
            row["messages"] = json.loads(stored[row["pair_id"]])


def _check_messages(messages: list[dict]) -> list[dict]:
    from pipeline.pairs.conversations import ConversationError, check

    try:
        return check([{"role": m["role"], "content": m["content"]} for m in messages])
    except (ConversationError, KeyError, TypeError) as exc:
        raise StoreError(f"not a usable conversation: {exc}") from None


class ConversationsMixin(StoreBase):
    def edit_pair_messages(self, pair_id: int, messages: list[dict], *, revision: int) -> dict:
        """A person's edit of a pair's whole conversation, based on the pair's `revision`."""
        from pipeline.pairs.conversations import pair_messages, pair_row

        messages = _check_messages(messages)
        row = pair_row(messages)
        with self.tx() as db:
            cur = db.execute("SELECT instruction, input, output, messages, revision, edited_fields FROM pairs "
                             "WHERE id = ?", [int(pair_id)])
            old = cur.fetchone()
            if old is None:
                raise NotFoundError(f"pair {pair_id} not found")
            old = dict(zip([d[0] for d in cur.description], old))
            if old["revision"] != revision:
                raise ConflictError(f"pair {pair_id} changed since revision {revision} (now {old['revision']}); "
                                    "nothing was saved — reload it and apply your edit again")
            before = pair_messages(old)
            if before == messages:
                return self.get_pair(pair_id)
            fields = sorted(set(json.loads(old["edited_fields"] or "[]")) | {"messages", "instruction", "output"})
            db.execute("UPDATE pairs SET instruction = ?, input = ?, output = ?, messages = ?, edited_fields = ?, "
                       "human_edits = human_edits + 1, revision = revision + 1, updated_at = ? WHERE id = ?",
                       [row["instruction"], row["input"], row["output"], row["messages"], json.dumps(fields),
                        now_iso(), int(pair_id)])
            db.execute("INSERT INTO pair_edits (pair_id, field, before, after, at) VALUES (?, 'messages', ?, ?, ?)",
                       [int(pair_id), json.dumps(before, ensure_ascii=False),
                        json.dumps(messages, ensure_ascii=False), now_iso()])
        return self.get_pair(pair_id)

    def messages_diff(self, pair_id: int) -> str:
        """Unified diff of a conversation from before its first human edit to now ('' if none)."""
        from pipeline.pairs.conversations import conversation_diff, pair_messages

        first = self.db.execute("SELECT before FROM pair_edits WHERE pair_id = ? AND field = 'messages' "
                                "ORDER BY id LIMIT 1", [int(pair_id)]).fetchone()
        if not first:
            return ""
        return conversation_diff(json.loads(first[0]), pair_messages(self.get_pair(pair_id)))

    # -- chat → pairs, with the conversation's context ----------------------------------------
    def chat_context(self, message_id: int) -> list[dict]:
        """The conversation as the answering model saw it, up to and including this answer: the
        system prompt, each earlier user turn and that same column's answer to it."""
        answer = self.get_message(message_id)
        if answer["role"] != "assistant":
            raise StoreError("only a model's answer can become a pair")
        chat = self.get_chat(answer["chat_id"])
        messages = [{"role": "system", "content": chat["system"]}] if (chat.get("system") or "").strip() else []
        for turn in sorted({m["turn"] for m in chat["messages"] if m["turn"] <= answer["turn"]}):
            rows = [m for m in chat["messages"] if m["turn"] == turn]
            user = next((m for m in rows if m["role"] == "user"), None)
            reply: dict | None
            if turn == answer["turn"]:
                reply = answer
            else:
                reply = next((m for m in rows if m["role"] == "assistant" and m["col"] == answer["col"]
                              and m["status"] == "done"), None)
            if user is None or reply is None:
                continue  # a turn this column never answered (error, deleted) is left out, not invented
            messages += [{"role": "user", "content": user["content"]},
                         {"role": "assistant", "content": reply["content"]}]
        return messages

    def conversation_pair_from_chat(self, message_id: int, *, output: str | None = None,
                                    messages: list[dict] | None = None) -> int:
        """A draft pair (origin 'chat') holding the conversation up to this answer (the answer
        replaced by a person's correction when given; `messages`: the caller's cleaned turns, the
        correction already in them); lineage in chat_pairs like single turns."""
        from pipeline.pairs.conversations import pair_row

        answer = self.get_message(message_id)
        if messages is None:
            messages = self.chat_context(message_id)
            if output is not None:
                if not output.strip():
                    raise StoreError("a pair needs a non-empty output")
                messages[-1] = {"role": "assistant", "content": output}
        messages = _check_messages(messages)
        row = pair_row(messages)
        digest = hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:16]
        ref = f"chat:{answer['chat_id']}:{message_id}:{digest}"
        with self.tx() as db:
            self.insert_imported_pairs([{**row, "origin": "chat", "labeller": answer["model"], "import_ref": ref}])
            pair_id: int = db.execute("SELECT id FROM pairs WHERE import_ref = ?", [ref]).fetchone()[0]
            db.execute("INSERT OR IGNORE INTO chat_pairs (pair_id, chat_id, message_id, model, corrected, context) "
                       "VALUES (?, ?, ?, ?, ?, 'conversation')",
                       [pair_id, answer["chat_id"], message_id, answer["model"], int(output is not None
                                                                                     and output != answer["content"])])
        return pair_id

    def chat_origins(self, pair_ids: list[int]) -> list[dict]:
        """Lineage: the conversations (and answers) these pairs were sent from."""
        if not pair_ids:
            return []
        marks = ",".join("?" * len(pair_ids))
        return list(self.db.query(
            f"SELECT cp.pair_id, cp.chat_id, cp.message_id, cp.model, cp.context, COALESCE(m.turn, 0) AS turn "
            f"FROM chat_pairs cp LEFT JOIN messages m ON m.id = cp.message_id WHERE cp.pair_id IN ({marks}) "
            "ORDER BY cp.pair_id", [int(p) for p in pair_ids]))

    def chat_pair_ids(self, chat_id: int) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT pair_id FROM chat_pairs WHERE chat_id = ? ORDER BY pair_id",
                                              [int(chat_id)]).fetchall()]

    def mark_chat_pair_turn_only(self, pair_id: int) -> None:
        """Note that a pair was sent without its earlier turns (the person chose it)."""
        with self.tx() as db:
            db.execute("UPDATE chat_pairs SET context = 'turn_only' WHERE pair_id = ?", [int(pair_id)])
