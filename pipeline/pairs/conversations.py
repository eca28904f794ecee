"""Conversation pairs: a pair that holds a list of messages (system, user, assistant, …).

    messages = normalize([{"from": "human", "value": "Sort xs"}, {"from": "gpt", "value": "..."}])
    is_conversation(messages)            # False: one user turn and its answer is a plain pair
    instruction, output = mirror(messages)   # first user turn / last assistant turn (search, lists)
    to_sharegpt(messages)                # [{"from": "human", "value": ...}, ...]

A single-turn pair keeps instruction / input / output exactly as before (`pairs.messages` stays
NULL); only a pair with a system prompt or more than one user turn stores its messages, and its
instruction/output mirror the first user turn and the last assistant turn so the review list,
full-text search and length filters see it. OpenAI `messages` (role/content) and ShareGPT
`conversations` (from/value: system/human/gpt) are both read; roles FastChat and TRL users write
(`human`, `gpt`, `bot`, `model`) map to user/assistant. A conversation must end with an
assistant turn (that is what is trained on) and alternate user/assistant after the optional
system prompt, as the chat templates of most models require.
"""
from __future__ import annotations

import difflib
import json

from pipeline.errors import StudioError

ROLE_ALIASES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant",
                "gpt": "assistant", "bot": "assistant", "model": "assistant", "chatgpt": "assistant"}
SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}


class ConversationError(StudioError):
    """A list of messages cannot be a conversation pair; the message says what is wrong."""


def normalize(value, what: str = "messages") -> list[dict]:
    """[{role, content}] from OpenAI or ShareGPT messages (a list, or its JSON text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConversationError(f"{what!r} is not a JSON list of messages") from None
    if not isinstance(value, list):
        raise ConversationError(f"{what!r} should be a list of messages, got {type(value).__name__}")
    out: list[dict] = []
    for i, message in enumerate(value, 1):
        if not isinstance(message, dict):
            raise ConversationError(f"{what!r} holds a {type(message).__name__} where message {i} was expected")
        raw_role = message.get("role", message.get("from"))
        role = ROLE_ALIASES.get(str(raw_role).strip().lower())
        if role is None:
            raise ConversationError(f"message {i} has role {raw_role!r}; use system, user or assistant "
                                    f"(ShareGPT: system, human, gpt)")
        content = message.get("content", message.get("value"))
        if isinstance(content, list) and content and all(isinstance(p, dict) and p.get("type") == "text"
                                                         and isinstance(p.get("text"), str) for p in content):
            content = "".join(p["text"] for p in content)  # OpenAI content parts, text only
        if not isinstance(content, str):
            raise ConversationError(f"message {i} ({role}) has no text content")
        out.append({"role": role, "content": content})
    return check(out, what)


def check(messages: list[dict], what: str = "messages") -> list[dict]:
    """The same list if it is a usable conversation, else ConversationError saying why."""
    body = messages[1:] if messages and messages[0]["role"] == "system" else messages
    if not body:
        raise ConversationError(f"{what!r} has no user message")
    for i, message in enumerate(body):
        expected = "user" if i % 2 == 0 else "assistant"
        if message["role"] != expected:
            where = "after the system prompt" if message["role"] == "system" else f"at turn {i // 2 + 1}"
            raise ConversationError(f"{what!r}: expected a {expected} message {where}, got {message['role']} "
                                    "(turns alternate user/assistant after an optional first system prompt)")
        if not message["content"].strip():
            raise ConversationError(f"{what!r}: the {message['role']} message at turn {i // 2 + 1} is empty")
    if body[-1]["role"] != "assistant":
        raise ConversationError(f"{what!r} ends with a user message; a pair ends with the assistant's answer")
    return messages


def is_conversation(messages: list[dict]) -> bool:
    """True when the messages need the messages column (a system prompt or several turns)."""
    return any(m["role"] == "system" for m in messages) or sum(m["role"] == "user" for m in messages) > 1


def mirror(messages: list[dict]) -> tuple[str, str]:
    """(first user turn, last assistant turn): what a conversation shows as instruction/output."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    return (users[0] if users else ""), (answers[-1] if answers else "")


def pair_row(messages: list[dict]) -> dict:
    """The pair columns for a conversation: single-turn ones stay plain instruction/output. A
    conversation's `input` holds the system prompt and the turns between its first question and
    its last answer as a transcript, so full-text search, length filters and the frozen content
    hash see every turn (nothing renders it: training and exports read `messages`)."""
    instruction, output = mirror(messages)
    if not is_conversation(messages):
        return {"instruction": instruction, "input": "", "output": output, "messages": None}
    first = next(i for i, m in enumerate(messages) if m["role"] == "user")
    middle = [m for m in messages[:first] if m["role"] == "system"] + messages[first + 1:-1]
    return {"instruction": instruction, "input": transcript(middle), "output": output,
            "messages": json.dumps(messages, ensure_ascii=False)}


def pair_messages(pair: dict) -> list[dict]:
    """A pair (live row or frozen example) as messages, whichever way it is stored."""
    stored = pair.get("messages")
    if stored:
        return json.loads(stored) if isinstance(stored, str) else stored
    from pipeline.models.templates import to_messages

    return to_messages(pair.get("instruction") or "", pair.get("input") or "", pair.get("output") or "")


def to_sharegpt(messages: list[dict]) -> list[dict]:
    return [{"from": SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in messages]


def to_alpaca(messages: list[dict]) -> dict:
    """LLaMA-Factory's alpaca form: the last turn as instruction/output, earlier turns as history."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    body = messages[1:] if system else messages
    turns = [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body) - 1, 2)]
    record = {"instruction": turns[-1][0], "input": "", "output": turns[-1][1]}
    if turns[:-1]:
        record["history"] = turns[:-1]
    if system:
        record["system"] = system
    return record


def conversation_record(messages: list[dict], form: str) -> dict:
    """One export line: OpenAI `messages`, ShareGPT `conversations` or alpaca with history."""
    if form == "sharegpt":
        return {"conversations": to_sharegpt(messages)}
    if form == "alpaca":
        return to_alpaca(messages)
    return {"messages": messages}


def transcript(messages: list[dict]) -> str:
    """Readable text of a conversation (review panel, diffs, dedup and decontamination text)."""
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def search_text(messages: list[dict]) -> str:
    """Every turn's text, for dedup and decontamination (the middle turns count too)."""
    return "\n".join(m["content"] for m in messages)


def clean_fields(pair: dict) -> tuple[str, str, str]:
    """(instruction, input, output) that dedup, decontamination and quality filters read: for a
    conversation every user (and system) turn, then every assistant turn."""
    stored = pair.get("messages")
    if not stored:
        return pair["instruction"], pair["input"], pair["output"]
    messages = json.loads(stored) if isinstance(stored, str) else stored
    asked = "\n\n".join(m["content"] for m in messages if m["role"] != "assistant")
    answered = "\n\n".join(m["content"] for m in messages if m["role"] == "assistant")
    return asked, "", answered


def conversation_diff(before: list[dict], after: list[dict]) -> str:
    return "\n".join(difflib.unified_diff(transcript(before).splitlines(), transcript(after).splitlines(),
                                          fromfile="messages (before)", tofile="messages (now)",
                                          n=2, lineterm=""))
