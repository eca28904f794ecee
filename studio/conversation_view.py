"""The Pairs tab's view of a conversation pair: its messages as editable JSON, saved through the
store's conversation edit (revision-checked, with history). Plain functions, tested without a
browser; the tab wires them."""
from __future__ import annotations

import json

from pipeline.pairs.conversations import ConversationError, normalize
from pipeline.store import Store


def messages_json(pair: dict) -> str:
    """The JSON shown for a conversation pair ('' for a single-turn pair)."""
    if not pair.get("messages"):
        return ""
    return json.dumps(json.loads(pair["messages"]), ensure_ascii=False, indent=2)


def save_conversation(store: Store, seen: dict | None, text: str) -> dict:
    """Save the edited JSON (OpenAI or ShareGPT messages) of the pair on screen; the pair after."""
    if not seen or "revision" not in seen:
        raise ConversationError("pick a conversation pair in the table first")
    try:
        messages = normalize(text or "", "the conversation")
    except ConversationError as exc:
        raise ConversationError(f"{exc}; nothing was saved") from None
    return store.edit_pair_messages(seen["id"], messages, revision=seen["revision"])
