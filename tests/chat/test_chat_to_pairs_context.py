"""Chat → pairs keeps the context: turn N sent to the data is the conversation up to that answer
(or, when asked, that turn alone with a note), and lineage leads from the pair to its chat."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline.chat import Column, new_chat, send, send_to_pairs
from pipeline.lineage.trace import trace
from tests.openai_server import OpenAIServer


@pytest.fixture
def two_turns(store):
    with OpenAIServer(models=("m1", "m2"), reply=lambda body: f"{body['model']} answer {len(body['messages'])}") as server:
        for name in ("m1", "m2"):
            store.register_model(name, "openai", name, endpoint=server.url)
        chat_id = new_chat(store, ["m1", "m2"], mode="side", system="You write Python.")
        for text in ("Reverse a list", "Now make it work in place"):
            list(send(store, chat_id, text, [Column("m1"), Column("m2")]))
        yield chat_id


def answer(store, chat_id, turn, col):
    return next(m for m in store.get_chat(chat_id)["messages"]
                if m["role"] == "assistant" and m["turn"] == turn and m["col"] == col)


def test_turn_two_keeps_the_conversation_of_its_own_column(store, two_turns):
    second = answer(store, two_turns, 1, 1)
    [pair_id] = send_to_pairs(store, two_turns, message_id=second["id"])
    pair = store.get_pair(pair_id)
    assert json.loads(pair["messages"]) == [
        {"role": "system", "content": "You write Python."},
        {"role": "user", "content": "Reverse a list"}, {"role": "assistant", "content": answer(store, two_turns, 0, 1)["content"]},
        {"role": "user", "content": "Now make it work in place"}, {"role": "assistant", "content": second["content"]}]
    assert (pair["origin"], pair["instruction"], pair["labeller"]) == ("chat", "Reverse a list", "m2")
    assert store.chat_pair_provenance(pair_id)["context"] == "conversation"
    [fixed] = send_to_pairs(store, two_turns, message_id=second["id"], output="xs.reverse()")
    assert json.loads(store.get_pair(fixed)["messages"])[-1]["content"] == "xs.reverse()"
    assert store.chat_pair_provenance(fixed)["corrected"] == 1


def test_turn_only_is_a_plain_pair_with_a_note(store, two_turns):
    [pair_id] = send_to_pairs(store, two_turns, message_id=answer(store, two_turns, 1, 0)["id"], keep_context=False)
    pair = store.get_pair(pair_id)
    assert pair["messages"] is None and pair["instruction"] == "Now make it work in place"
    assert store.chat_pair_provenance(pair_id)["context"] == "turn_only"
    assert "without its context" in trace(store, f"pair:{pair_id}").to_dict()["upstream"][0]["nodes"][0]["detail"]


def test_lineage_from_pair_to_chat_and_back(store, two_turns):
    [pair_id] = send_to_pairs(store, two_turns, message_id=answer(store, two_turns, 1, 0)["id"])
    up = trace(store, f"pair:{pair_id}")
    chat_level = next(level for level in up.upstream if level.kind == "chat")
    assert chat_level.nodes[0].ref == f"chat:{two_turns}" and "turn 2" in chat_level.nodes[0].detail
    down = trace(store, f"chat:{two_turns}")
    assert [n.ref for level in down.downstream if level.kind == "pair" for n in level.nodes] == [f"pair:{pair_id}"]


def test_cli_to_pairs_turn_only(store, two_turns):
    env = dict(os.environ)
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "chat", "to-pairs", str(two_turns), *a],
                                    capture_output=True, text=True, env=env)
    result = run("--message", str(answer(store, two_turns, 1, 0)["id"]), "--turn-only")
    assert result.returncode == 0, result.stderr
    result = run()
    assert result.returncode == 0, result.stderr
    pairs = [store.get_pair(r["id"]) for r in store.query_pairs({})["rows"]]
    # the turn-only pair stays plain; every answer sent with its context carries the system prompt
    assert sorted(len(json.loads(p["messages"])) if p["messages"] else 0 for p in pairs) == [0, 3, 3, 5, 5]
