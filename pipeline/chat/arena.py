"""Battles: two models hidden as A and B answer the same prompt; the vote reveals them.

A vote (a, b, tie, both_bad) is on the last turn of a two-column conversation: a battle (names
hidden until then) or a named side-by-side comparison. It is stored with the prompt and both
answers, once: a second vote on the same turn, from any tab, is refused by the store.

Until a battle has its vote, every view of it (the Conversations table, `chat list|show|export`,
the API behind them) goes through `blind(chat)`: the columns are "Model A" and "Model B", never
the names, whose order would give the game away.
"""
from __future__ import annotations

import random

from pipeline.chat import ChatError

VOTE_LABELS = {"a": "A is better", "b": "B is better", "tie": "Tie", "both_bad": "Both are bad"}


def pick_battle(models: list[str], rng: random.Random | None = None) -> list[str]:
    """Two different models in random order (the order decides who is A)."""
    names = list(dict.fromkeys(m for m in models if m))
    if len(names) < 2:
        raise ChatError("a battle needs at least two registered models")
    return (rng or random.Random()).sample(names, 2)


def vote(store, chat_id: int, winner: str, voter: str | None = None) -> dict:
    """Record the vote on the last turn, signed by `voter` (an arena visitor); returns
    {'a': model, 'b': model, 'winner': winner}."""
    from pipeline import access

    access.require(access.Cap.WRITE_DATA, access.Target(what=f"vote on conversation {chat_id}"))
    if winner not in VOTE_LABELS:
        raise ChatError(f"unknown vote {winner!r}; use one of {', '.join(VOTE_LABELS)}")
    chat = store.get_chat(chat_id)
    if len(chat["models"]) != 2:
        raise ChatError("votes compare exactly two models; this conversation has "
                        f"{len(chat['models'])}")
    users = [m for m in chat["messages"] if m["role"] == "user"]
    if not users:
        raise ChatError("send a prompt to both models before voting")
    turn = users[-1]["turn"]
    answers = {m["col"]: m for m in chat["messages"] if m["role"] == "assistant" and m["turn"] == turn}
    missing = [label for col, label in ((0, "A"), (1, "B")) if col not in answers]
    if missing:
        raise ChatError(f"wait for both answers before voting ({' and '.join(missing)} not finished)")
    failed = [label for col, label in ((0, "A"), (1, "B")) if answers[col]["status"] == "error"
              and not answers[col]["content"].strip()]
    if failed:
        raise ChatError(f"model {' and '.join(failed)} failed to answer; a vote needs two answers")
    store.record_vote(chat_id, turn, chat["models"][0], chat["models"][1], winner, prompt=users[-1]["content"],
                      answer_a=answers[0]["content"], answer_b=answers[1]["content"],
                      mode="battle" if chat["mode"] == "battle" else "side", voter=voter)
    return {"a": chat["models"][0], "b": chat["models"][1], "winner": winner}


BLIND_LABELS = ("Model A", "Model B")


def is_blind(chat: dict) -> bool:
    """A battle nobody has voted on yet: its model names must not show anywhere."""
    return chat.get("mode") == "battle" and not chat.get("voted")


def shown_models(chat: dict) -> list[str]:
    return list(BLIND_LABELS[:len(chat["models"])]) if is_blind(chat) else list(chat["models"])


def blind(chat: dict) -> dict:
    """The conversation as anyone may see it: an unvoted battle with its names replaced by A/B."""
    if not is_blind(chat):
        return chat
    out = dict(chat, models=shown_models(chat))
    if "messages" in chat:
        out["messages"] = [dict(m, model=BLIND_LABELS[m["col"]] if m.get("col") in (0, 1) else None)
                           if m.get("model") else m for m in chat["messages"]]
    return out
