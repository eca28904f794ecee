"""Battles, votes and the leaderboard; answers back into pairs; conversations through JSONL."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from pipeline.chat import ChatError, Column, export_jsonl, new_chat, send, send_to_pairs
from pipeline.chat.arena import pick_battle, vote
from pipeline.chat.conversation import read_jsonl
from pipeline.chat.leaderboard import arena_leaderboard, leaderboard, win_rate_matrix
from pipeline.store import ConflictError
from tests.openai_server import OpenAIServer

STRENGTH = {"strong": 300.0, "middle": 100.0, "weak": -200.0}


def synthetic(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """Votes drawn from known Elo strengths (with 10% ties)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.sample(list(STRENGTH), 2)
        p_a = 1 / (1 + 10 ** ((STRENGTH[b] - STRENGTH[a]) / 400))
        r = rng.random()
        out.append((a, b, "tie" if r < 0.1 else ("a" if rng.random() < p_a else "b")))
    return out


@pytest.fixture
def battle(store):
    """A finished two-model battle against the local OpenAI-compatible server."""
    with OpenAIServer(models=("m1", "m2"), reply=lambda body: f"{body['model']} says hi") as server:
        for name in ("m1", "m2"):
            store.register_model(name, "openai", name, endpoint=server.url)
        chat_id = new_chat(store, ["m1", "m2"], mode="battle")
        list(send(store, chat_id, "Write hello world", [Column("m1", label="Model A"), Column("m2", label="Model B")]))
        yield chat_id


def test_leaderboard_recovers_a_known_order():
    rows = leaderboard(synthetic(600))
    assert [r["model"] for r in rows] == ["strong", "middle", "weak"]
    assert rows[0]["elo"] > rows[1]["elo"] > rows[2]["elo"]
    gap = rows[0]["bt"] - rows[2]["bt"]
    assert 350 < gap < 650  # the true gap is 500 Elo points
    assert all(r["bt_low"] <= r["bt"] <= r["bt_high"] and r["elo_low"] <= r["elo"] <= r["elo_high"] for r in rows)
    assert sum(r["battles"] for r in rows) == 2 * 600 and set(rows[0]) == {
        "model", "elo", "elo_low", "elo_high", "bt", "bt_low", "bt_high", "battles", "wins", "losses", "ties",
        "both_bad"}


def test_intervals_narrow_as_votes_accumulate():
    few, many = leaderboard(synthetic(40, seed=1)), leaderboard(synthetic(800, seed=1))
    width = lambda rows, m: next(r["bt_high"] - r["bt_low"] for r in rows if r["model"] == m)
    for model in STRENGTH:
        assert width(many, model) < width(few, model) / 2


def test_evenly_matched_models_have_overlapping_intervals():
    rows = leaderboard([("x", "y", "a"), ("x", "y", "b")] * 30 + [("x", "y", "tie")] * 10)
    x, y = sorted(rows, key=lambda r: r["model"])
    assert abs(x["bt"] - y["bt"]) < 1 and x["bt_low"] < y["bt_high"] and y["bt_low"] < x["bt_high"]
    assert x["ties"] == 10 and x["wins"] == 30


def test_win_rate_matrix():
    models, matrix = win_rate_matrix([("a", "b", "a"), ("a", "b", "a"), ("b", "a", "a"), ("a", "c", "tie")])
    assert models == ["a", "b", "c"]
    assert matrix[0][1] == pytest.approx(2 / 3) and matrix[1][0] == pytest.approx(1 / 3)
    assert matrix[0][2] is None  # only a tie: no decided battle


def test_battle_vote_is_stored_once_with_prompt_and_answers(store, battle):
    assert vote(store, battle, "b") == {"a": "m1", "b": "m2", "winner": "b"}
    stored = store.vote_for_turn(battle, 0)
    assert (stored["prompt"], stored["answer_a"], stored["answer_b"]) == ("Write hello world", "m1 says hi",
                                                                           "m2 says hi")
    with pytest.raises(ConflictError, match="already been voted"):
        vote(store, battle, "a")
    rows = arena_leaderboard(store, rounds=20)
    assert [r["model"] for r in rows] == ["m2", "m1"] and rows[0]["wins"] == 1 and rows[1]["losses"] == 1
    with pytest.raises(ChatError, match="voted on"):
        list(send(store, battle, "again", [Column("m1"), Column("m2")]))


def test_pick_battle_needs_two_models():
    assert sorted(pick_battle(["a", "b", "c"], random.Random(3))) in (["a", "b"], ["a", "c"], ["b", "c"])
    with pytest.raises(ChatError):
        pick_battle(["only"])


def test_send_to_pairs_records_conversation_and_model(store, battle):
    vote(store, battle, "b")   # an unvoted battle's answers wait for the vote (test_battle_blind.py)
    answer = next(m for m in store.get_chat(battle)["messages"] if m["col"] == 1)
    [pair_id] = send_to_pairs(store, battle, message_id=answer["id"])
    [fixed_id] = send_to_pairs(store, battle, message_id=answer["id"], output="print('hello world')")
    assert send_to_pairs(store, battle, message_id=answer["id"]) == [pair_id]  # same text: same pair
    pair = store.row("pairs", fixed_id)
    assert (pair["origin"], pair["instruction"], pair["output"], pair["labeller"], pair["status"]) == (
        "chat", "Write hello world", "print('hello world')", "m2", "draft")
    assert store.chat_pair_provenance(fixed_id) == {"pair_id": fixed_id, "chat_id": battle,
                                                    "message_id": answer["id"], "model": "m2", "corrected": 1,
                                                    "context": "conversation"}
    assert store.chat_pair_provenance(pair_id)["corrected"] == 0


def test_conversation_round_trips_through_jsonl(store, battle, tmp_path):
    vote(store, battle, "tie")   # voted: the names may show
    out = tmp_path / "chats.jsonl"
    assert export_jsonl(store, None, out) == 1
    [record] = read_jsonl(out)
    chat = store.get_chat(battle)
    assert record["id"] == battle and record["models"] == ["m1", "m2"] and record["mode"] == "battle"
    assert [c["messages"] for c in record["columns"]] == [
        [{"role": "user", "content": "Write hello world"}, {"role": "assistant", "content": "m1 says hi"}],
        [{"role": "user", "content": "Write hello world"}, {"role": "assistant", "content": "m2 says hi"}]]
    assert [m["content"] for m in record["messages"]] == [m["content"] for m in chat["messages"]]


def test_deleting_a_conversation_keeps_its_votes_and_pairs(store, battle):
    vote(store, battle, "a")
    ids = send_to_pairs(store, battle)
    store.delete_chat(battle)
    assert store.list_chats() == [] and len(store.list_votes()) == 1
    assert all(store.row("pairs", i)["origin"] == "chat" for i in ids)


def test_cli_talk_streams_to_the_terminal_and_refuses_an_empty_prompt(studio_home):
    from pipeline.store import open_store

    with OpenAIServer() as server:
        open_store().register_model("remote", "openai", "test-model", endpoint=server.url)
        run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "chat", *a],
                                        capture_output=True, text=True, timeout=120)
        ok = run("talk", "remote", "--prompt", "hello there", "--temperature", "0.5")
        empty = run("talk", "remote", "--prompt", "  ")
        bad = run("talk", "remote", "--prompt", "x", "--top-p", "0")
    assert ok.returncode == 0 and ok.stdout.strip() == "echo: hello there"
    assert empty.returncode == 2 and "empty prompt" in empty.stderr and "Traceback" not in empty.stderr
    assert bad.returncode == 2 and "top_p" in bad.stderr
    assert len(open_store().list_chats()) == 1  # the refused prompts made no conversation
