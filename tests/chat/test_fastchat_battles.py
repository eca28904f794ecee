"""Arena votes in FastChat's battle format: ours exported so FastChat's elo_analysis reads them,
theirs imported (JSON array as clean_battle_data.py writes it, or JSONL) and marked as imported."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline.chat import ChatError
from pipeline.chat.fastchat_votes import export_battles, import_battles
from pipeline.chat.leaderboard import arena_leaderboard

# Records in the shape of FastChat's clean_battle_*.json (fastchat/serve/monitor/clean_battle_data.py)
CLEAN_BATTLES = [
    {"question_id": "a7c1", "model_a": "vicuna-13b", "model_b": "koala-13b", "winner": "model_a",
     "judge": "arena_user_973", "conversation_a": [{"role": "user", "content": "Reverse a list in Lua"},
                                                   {"role": "assistant", "content": "local function rev(t) ... end"}],
     "conversation_b": [{"role": "user", "content": "Reverse a list in Lua"},
                        {"role": "assistant", "content": "Use table.reverse"}],
     "turn": 1, "anony": True, "language": "English", "tstamp": 1682351591.1322,
     "openai_moderation": {"flagged": False}, "toxic_chat_tag": {}, "dedup_tag": {"high_freq": False, "sampled": True}},
    {"question_id": "b9d2", "model_a": "koala-13b", "model_b": "vicuna-13b", "winner": "tie (bothbad)",
     "judge": "arena_user_12", "conversation_a": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                                                  {"role": "user", "content": "sort in place"}, {"role": "assistant", "content": "a"}],
     "conversation_b": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"},
                        {"role": "user", "content": "sort in place"}, {"role": "assistant", "content": "b"}],
     "turn": 2, "anony": True, "language": "English", "tstamp": 1682351600.0},
    {"question_id": "c3", "model_a": "koala-13b", "model_b": "alpaca-13b", "winner": "model_b", "judge": "u3",
     "turn": 1, "anony": False, "language": "English", "tstamp": 1682351700.0,
     "conversation_a": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
     "conversation_b": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "z"}]},
    {"question_id": "bad", "model_a": "koala-13b", "model_b": "alpaca-13b", "winner": "model_c"},
]


def elo_analysis_battles(path):
    """What FastChat's elo_analysis.py does with a battle file before fitting: load, sort by time,
    keep anonymous votes, split off ties by the winner text."""
    import pandas as pd

    with open(path) as fh:
        battles = pd.DataFrame(json.load(fh) if str(path).endswith(".json") else [json.loads(x) for x in fh])
    battles = battles.sort_values(ascending=True, by=["tstamp"])
    battles = battles[battles["anony"]].reset_index(drop=True)
    no_ties = battles[~battles["winner"].str.contains("tie")]
    return battles, no_ties


def test_import_a_clean_battle_file_then_export_it_again(store, tmp_path):
    path = tmp_path / "clean_battle_20230425.json"
    path.write_text(json.dumps(CLEAN_BATTLES, indent=1))
    report = import_battles(store, path)
    assert (report["imported"], report["malformed"]) == (3, 1)
    assert "model_c" in report["errors"][0]["error"] and report["errors"][0]["line"] > 1
    assert import_battles(store, path)["already_present"] == 3  # twice adds nothing
    votes = store.list_votes()
    assert [v["winner"] for v in votes] == ["a", "both_bad", "b"] and [v["mode"] for v in votes][-1] == "side"
    rows = {r["model"]: r for r in arena_leaderboard(store, rounds=0)}
    assert rows["koala-13b"]["imported"] == 3 and rows["alpaca-13b"]["imported"] == 1
    out = export_battles(store, tmp_path / "again.json")
    assert out["battles"] == 3 and out["anonymous"] == 2
    assert json.loads((tmp_path / "again.json").read_text()) == CLEAN_BATTLES[:3]


def test_our_votes_export_as_fastchat_reads_them(store, tmp_path):
    chat_id = store.create_chat(["m1", "m2"], mode="battle")
    for turn, (q, a, b) in enumerate([("Write add in Lua", "function add(a,b) return a+b end", "add"),
                                       ("Now in place", "A2", "B2")]):
        store.add_message(chat_id, "user", q, turn=turn)
        store.add_message(chat_id, "assistant", a, turn=turn, model="m1", col=0)
        store.add_message(chat_id, "assistant", b, turn=turn, model="m2", col=1)
    store.record_vote(chat_id, 1, "m1", "m2", "a", prompt="Now in place", answer_a="A2", answer_b="B2")
    store.record_vote(None, None, "m2", "m3", "both_bad", prompt="p", answer_a="x", answer_b="y", mode="side")
    export_battles(store, tmp_path / "ours.json")
    battles, no_ties = elo_analysis_battles(tmp_path / "ours.json")
    assert list(battles["model_a"]) == ["m1"] and list(no_ties["winner"]) == ["model_a"]
    record = battles.iloc[0]
    assert record["turn"] == 2 and [m["role"] for m in record["conversation_a"]] == ["user", "assistant"] * 2
    assert record["conversation_b"][-1]["content"] == "B2" and record["conversation_a"][0]["content"] == "Write add in Lua"
    export_battles(store, tmp_path / "ours.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "ours.jsonl").read_text().splitlines()]
    assert lines[1]["winner"] == "tie (bothbad)" and lines[1]["anony"] is False
    # and our own export comes back as imported votes, without touching the originals
    assert import_battles(store, tmp_path / "ours.jsonl")["imported"] == 2 and len(store.list_votes()) == 4


def test_a_file_of_nothing_usable_is_refused(store, tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"model_a": "x"}) + "\n")
    with pytest.raises(ChatError, match="missing 'model_b'"):
        import_battles(store, path)


def test_cli_round_trip(studio_home, tmp_path):
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(CLEAN_BATTLES[:3]))
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "chat", *a], capture_output=True, text=True,
                                    env=dict(os.environ))
    result = run("battles", "import", str(path))
    assert result.returncode == 0 and "imported 3 votes" in result.stdout, result.stderr
    assert "(3 imported)" in run("leaderboard", "--rounds", "0").stdout
    assert run("battles", "export", str(tmp_path / "out.json")).returncode == 0
    assert len(json.loads((tmp_path / "out.json").read_text())) == 3


def test_chat_tab_handlers_import_and_export(store, tmp_path):
    from studio.arena_exchange import export_battles_file, import_battles_file
    from studio.chat_tab import LEADERBOARD_COLUMNS, leaderboard_rows

    path = tmp_path / "clean.json"
    path.write_text(json.dumps(CLEAN_BATTLES))
    note = import_battles_file(store, str(path))
    assert "Imported **3** votes" in note and "line" in note
    with pytest.raises(ChatError, match="choose a FastChat battle file"):
        import_battles_file(store, None)
    rows = leaderboard_rows(arena_leaderboard(store, rounds=0))
    assert LEADERBOARD_COLUMNS[-1] == "imported" and {r[0]: r[-1] for r in rows}["koala-13b"] == 3
    out = export_battles_file(store)
    assert out.startswith(str(store.path.parent)) and len(json.loads(open(out).read())) == 3


def test_fastchat_own_rating_code_reads_our_export_and_agrees(store, tmp_path):
    """FastChat's compute_elo_mle_with_tie on our exported file ranks the models as our leaderboard
    does, within a few rating points (its regression and ours differ only in how rows are weighted)."""
    import random

    from tests.chat.fastchat_elo_reference import clean_battle_file_ratings

    rng = random.Random(7)
    strength = {"strong": 0.75, "middle": 0.5, "weak": 0.25}
    names = list(strength)
    for _ in range(240):
        a, b = rng.sample(names, 2)
        p = strength[a] / (strength[a] + strength[b])
        roll = rng.random()
        winner = "tie" if roll < 0.1 else ("both_bad" if roll < 0.15 else ("a" if rng.random() < p else "b"))
        store.record_vote(None, None, a, b, winner, prompt="q", answer_a="x", answer_b="y")
    store.record_vote(None, None, "strong", "weak", "b", prompt="q", answer_a="x", answer_b="y", mode="side")
    export_battles(store, tmp_path / "battles.json")
    theirs, _online, battles = clean_battle_file_ratings(tmp_path / "battles.json")
    assert len(battles) == 240  # the side-by-side vote is left out, as the arena leaves out named votes
    ours = {r["model"]: r["bt"] for r in arena_leaderboard(store, rounds=0) if r["battles"]}
    assert list(theirs.index) == ["strong", "middle", "weak"] == sorted(ours, key=lambda m: -ours[m])
    # ours counts the one named vote too; without it the fits differ only by rounding
    assert all(abs(theirs[m] - ours[m]) < 5 for m in names), (dict(theirs), ours)


def test_a_hostile_file_adds_no_markup_and_is_read_in_batches(store, tmp_path):
    """A visitor's upload: model names carrying markup are refused by line; thousands of records go
    in batch by batch, each counted once."""
    bad = dict(CLEAN_BATTLES[0], model_a='<img src=x onerror="alert(1)">')
    rows = [dict(CLEAN_BATTLES[0], question_id=f"q{i}", tstamp=float(i)) for i in range(2500)]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [bad, *rows, "not a record"]))
    report = import_battles(store, path)
    assert (report["imported"], report["malformed"]) == (2500, 2)
    assert "is not a model name" in report["errors"][0]["error"] and report["errors"][0]["line"] == 1
    assert not any("<" in v["model_a"] for v in store.list_votes())
