"""Conversations: start one, send a message to its columns, regenerate, export, turn answers into pairs.

Every column has its own history: the shared user messages and that column's own answers (a
stopped or failed answer is kept and shown, but not fed back to the model as if it had said it).
The user's message is stored before any model runs and each answer as soon as its column ends, so
closing the tab mid-answer loses nothing that was already said.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO

from pipeline import access
from pipeline.chat import ChatError
from pipeline.chat.streaming import Column, ColumnState, run_columns
from pipeline.jsonl import read_jsonl  # noqa: F401  (the reader of export_chats' files, for its callers)

MAX_COLUMNS = 4
MAX_PROMPT_CHARS = 200_000    # beyond this a paste is a mistake, not a prompt to cut


def new_chat(store, models: list[str], *, mode: str = "single", system: str = "",
             title: str | None = None, params: dict | None = None, owner: str | None = None) -> int:
    """A new conversation with `models` answering side by side (`owner`: the arena session that
    starts it); the id."""
    access.require(access.Cap.WRITE_DATA, access.Target(what="start a conversation"))
    if not models:
        raise ChatError("pick at least one model")
    if len(models) > MAX_COLUMNS:
        raise ChatError(f"at most {MAX_COLUMNS} models answer side by side")
    if mode == "battle" and (len(models) != 2 or models[0] == models[1]):
        raise ChatError("a battle needs two different models")
    return store.create_chat(list(models), mode=mode, system=system, title=title, params=params, owner=owner)


def check_prompt(prompt: str) -> str:
    if not prompt or not prompt.strip():
        raise ChatError("type a message first: an empty prompt is not sent")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ChatError(f"the message is {len(prompt):,} characters; at most {MAX_PROMPT_CHARS:,} are accepted")
    return prompt


def history(chat: dict, col: int, system: str = "") -> list[dict]:
    """Messages for column `col`: system, then each user turn with this column's finished answer."""
    out = [{"role": "system", "content": system}] if system else []
    answers = {m["turn"]: m for m in chat["messages"] if m["role"] == "assistant" and m["col"] == col}
    for m in chat["messages"]:
        if m["role"] != "user":
            continue
        out.append({"role": "user", "content": m["content"]})
        answer = answers.get(m["turn"])
        if answer and answer["status"] == "done" and answer["content"]:
            out.append({"role": "assistant", "content": answer["content"]})
    return out


def send(store, chat_id: int, prompt: str, columns: list[Column], *, run_key: str | None = None,
         api_key: str | None = None) -> Iterator[list[ColumnState]]:
    """Store the message, stream every column's answer, store each answer when it ends."""
    _require_answering(chat_id)
    check_prompt(prompt)
    chat = store.get_chat(chat_id)
    _check_columns(chat, columns)
    if chat["mode"] == "battle" and any(store.vote_for_turn(chat_id, m["turn"])
                                        for m in chat["messages"] if m["role"] == "user"):
        raise ChatError("this battle has been voted on; start a new battle to keep comparing")
    columns = resolve_columns(store, columns)  # an unknown model fails here, before anything is stored
    turn = store.next_turn(chat_id)
    store.add_message(chat_id, "user", prompt, turn=turn)
    if not chat.get("title"):
        store.set_chat_title(chat_id, prompt.strip().splitlines()[0][:80])
    yield from _answer(store, store.get_chat(chat_id), turn, columns, run_key, api_key)


def regenerate(store, chat_id: int, columns: list[Column], *, run_key: str | None = None,
               api_key: str | None = None) -> Iterator[list[ColumnState]]:
    """Answer the last message again (its old answers are replaced)."""
    _require_answering(chat_id)
    chat = store.get_chat(chat_id)
    _check_columns(chat, columns)
    users = [m for m in chat["messages"] if m["role"] == "user"]
    if not users:
        raise ChatError("nothing to regenerate: send a message first")
    turn = users[-1]["turn"]
    columns = resolve_columns(store, columns)
    store.delete_answers(chat_id, turn)
    yield from _answer(store, store.get_chat(chat_id), turn, columns, run_key, api_key)


def _require_answering(chat_id: int) -> None:
    access.require(access.Cap.WRITE_DATA, access.Target(what=f"add to conversation {chat_id}"))
    access.require(access.Cap.SPEND_COMPUTE, access.Target(what=f"answer in conversation {chat_id}"))


def delete(store, chat_id: int) -> None:
    """Delete a conversation and its messages (its votes and the pairs made from it stay)."""
    access.require(access.Cap.WRITE_DATA, access.Target(what=f"delete conversation {chat_id}"))
    store.delete_chat(chat_id)


def _answer(store, chat: dict, turn: int, columns, run_key, api_key):
    system = chat.get("system") or ""
    # A column's own system prompt (per-model settings) wins over the conversation's.
    histories = [history(chat, i, c.settings.system or system) for i, c in enumerate(columns)]

    def save(i: int, state: ColumnState) -> None:
        store.add_message(chat["id"], "assistant", state.text, turn=turn, model=chat["models"][i], col=i,
                          status=state.status if state.status in ("done", "stopped", "error") else "error",
                          error=state.error, settings=columns[i].settings.to_dict(),
                          trimmed=state.dropped_turns)

    yield from run_columns(columns, histories, run_key=run_key, api_key=api_key, on_finish=save)


def resolve_columns(store, columns: list[Column]) -> list[Column]:
    """Model names looked up in *this* store (not the default one), so any store file works."""
    return [replace(c, model=store.get_model(c.model), label=c.label or c.model) if isinstance(c.model, str)
            else c for c in columns]


def _check_columns(chat: dict, columns: list[Column]) -> None:
    names = [c.model if isinstance(c.model, str) else c.model.get("name") for c in columns]
    if names != chat["models"]:
        raise ChatError(f"this conversation is with {', '.join(chat['models'])}; "
                        "start a new conversation to change its models")


def last_turn(chat: dict) -> int | None:
    users = [m["turn"] for m in chat["messages"] if m["role"] == "user"]
    return users[-1] if users else None


# -- export and back into the data ----------------------------------------------------------
def conversation_record(chat: dict) -> dict:
    """One JSONL line: the conversation with every column's messages (OpenAI messages shape);
    an unvoted battle keeps its names hidden (arena.blind)."""
    from pipeline.chat.arena import blind

    chat = blind(chat)
    columns = []
    for i, model in enumerate(chat["models"]):
        columns.append({"model": model, "messages": history(chat, i, chat.get("system") or "")})
    return {"id": chat["id"], "title": chat.get("title"), "mode": chat["mode"], "created_at": chat["created_at"],
            "system": chat.get("system") or "", "models": chat["models"], "columns": columns,
            "messages": [{k: m[k] for k in ("turn", "role", "model", "col", "content", "status", "error")}
                         for m in chat["messages"]]}


def export_jsonl(store, chat_ids: Iterable[int] | None, out: str | Path | IO[str]) -> int:
    """Write conversations (all when `chat_ids` is None) as JSONL; returns how many."""
    ids = list(chat_ids) if chat_ids is not None else [c["id"] for c in store.list_chats(limit=1_000_000)]
    records = [conversation_record(store.get_chat(i)) for i in ids]
    if hasattr(out, "write"):
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        from pipeline.paths import check_output_path

        path = check_output_path(out, "conversations export")   # the validator, then the gate
        tmp = path.with_name(path.name + ".part")  # a crash never leaves half a file under the real name
        try:
            with tmp.open("w", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
            tmp.replace(path)
        except OSError as exc:
            raise ChatError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(records)


def send_to_pairs(store, chat_id: int, *, message_id: int | None = None, output: str | None = None,
                  instruction: str | None = None, keep_context: bool = True) -> list[int]:
    """One answer (optionally a corrected version), or every finished answer of a conversation,
    as draft pairs with origin 'chat'. Returns the pair ids. With `keep_context` an answer after
    the first turn becomes a conversation pair holding the turns up to it (and the system
    prompt); without it, only that turn, noted as sent without its context (store.conversations). An unvoted battle's answers wait for the vote: a pair names the model
    that wrote it, which would reveal the battle. Everything sent goes through the scrub pass first."""
    from pipeline.chat.arena import is_blind

    if is_blind(store.get_chat(chat_id)):
        raise ChatError("vote on this battle first: its answers become pairs once the vote reveals the models")
    access.require(access.Cap.WRITE_DATA, access.Target(what=f"add pairs from conversation {chat_id}"))
    if message_id is not None:
        message = store.get_message(message_id)
        if message["chat_id"] != chat_id:
            raise ChatError(f"message {message_id} is not part of conversation {chat_id}")
        if keep_context and instruction is None:
            return [_scrubbed_conversation_pair(store, message, output=output)]
        pair_id = _scrubbed_pair_from_chat(store, message, output=output, instruction=instruction)
        if message["turn"] > 0:
            store.mark_chat_pair_turn_only(pair_id)
        return [pair_id]
    chat = store.get_chat(chat_id)
    answers = [m for m in chat["messages"] if m["role"] == "assistant" and m["status"] == "done" and m["content"].strip()]
    if not answers:
        raise ChatError("this conversation has no finished answer to turn into a pair")
    ids = [_scrubbed_conversation_pair(store, m) if keep_context else _scrubbed_pair_from_chat(store, m)
           for m in answers]
    for m, pair_id in zip(answers, ids):
        if m["turn"] > 0 and not keep_context:
            store.mark_chat_pair_turn_only(pair_id)
    return ids


def _scrubbed_pair_from_chat(store, message: dict, *, output: str | None = None,
                             instruction: str | None = None) -> int:
    """The scrub pass on what goes to the dataset: the question and the answer (or its correction)
    with secrets replaced; an answer that cannot be made safe is refused with the reason."""
    from pipeline.curate.scrub import scrub_fields

    if instruction is None:
        instruction = store.chat_question(message["id"])
    row = {"instruction": instruction, "output": message["content"] if output is None else output}
    clean, findings, held = scrub_fields(row, ("instruction", "output"))
    if held:
        raise ChatError(f"this answer cannot go to the dataset: {held}")
    changed = clean != row
    pair_id = store.pair_from_chat(message["id"], instruction=clean["instruction"],
                                   output=clean["output"] if (changed or output is not None) else None)
    store.set_pair_scrub(pair_id, findings)
    return pair_id


def _scrubbed_conversation_pair(store, message: dict, *, output: str | None = None) -> int:
    """The conversation up to this answer as one pair, every turn through the scrub pass before it
    is written; a turn that cannot be made safe refuses the whole pair with the reason."""
    from pipeline.curate.scrub import scrub_messages

    messages = store.chat_context(message["id"])
    if output is not None:
        messages[-1] = {"role": "assistant", "content": output}
    clean, findings, held = scrub_messages(messages)
    if len(messages) == 2:   # one question and its answer: a single-turn pair, named as one
        names = {"turn 0 user": "instruction", "turn 1 assistant": "output"}
        findings = [{**f, "field": names.get(f["field"], f["field"])} for f in findings]
        held = held and held.replace("turn 0:", "instruction:").replace("turn 1:", "output:")
    if held:
        raise ChatError(f"this answer cannot go to the dataset: {held}")
    pair_id = store.conversation_pair_from_chat(message["id"], output=output, messages=clean)
    store.set_pair_scrub(pair_id, findings)
    return pair_id
