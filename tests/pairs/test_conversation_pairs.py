"""Conversation pairs: imported from OpenAI `messages` / ShareGPT `conversations` JSONL, edited
with history, frozen, and exported in every form with all their turns."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.pairs.export import export_jsonl, freeze_dataset
from pipeline.pairs.importer import ImportConfig, import_file
from pipeline.store import ConflictError, StoreError

TALK = [{"role": "system", "content": "You write GDScript."},
        {"role": "user", "content": "Write a function that reverses an array."},
        {"role": "assistant", "content": "func rev(a):\n\treturn a.duplicate().reverse()"},
        {"role": "user", "content": "Now make it work in place."},
        {"role": "assistant", "content": "func rev(a):\n\ta.reverse()"}]


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def sharegpt(messages):
    names = {"system": "system", "user": "human", "assistant": "gpt"}
    return [{"from": names[m["role"]], "value": m["content"]} for m in messages]


def test_import_keeps_every_turn_and_single_turns_stay_plain(store, tmp_path):
    path = write(tmp_path / "chat.jsonl", [
        {"messages": TALK},
        {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "hi"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}, {"role": "user", "content": "b"},
                      {"role": "assistant", "content": "c"}]},
    ])
    report = import_file(store, ImportConfig(path=str(path)))
    assert report["imported"] == 2 and report["errors"][0]["line"] == 3
    assert "expected a assistant message" in report["errors"][0]["error"]
    shared = import_file(store, ImportConfig(path=str(write(tmp_path / "sg.jsonl", [{"conversations": sharegpt(TALK[1:])}]))))
    assert shared["shape"] == "messages" and shared["imported"] == 1
    first, plain, second = (store.get_pair(r["id"]) for r in sorted(store.query_pairs({})["rows"], key=lambda r: r["id"]))
    assert json.loads(first["messages"]) == TALK
    # search and lists see the first question and the last answer
    assert (first["instruction"], first["output"]) == (TALK[1]["content"], TALK[4]["content"])
    assert json.loads(second["messages"]) == TALK[1:]
    assert plain["messages"] is None and (plain["instruction"], plain["output"]) == ("Say hi", "hi")
    assert store.count_pairs({"search": "reverses"}) == 2
    assert store.count_pairs({"search": "place"}) == 2  # a middle turn is searchable too


def test_freeze_and_export_every_form(store, tmp_path):
    path = write(tmp_path / "chat.jsonl", [{"messages": TALK}, {"instruction": "Say hi", "output": "hi"}])
    import_file(store, ImportConfig(path=str(path), shape="messages"))
    import_file(store, ImportConfig(path=str(write(tmp_path / "a.jsonl", [{"instruction": "Say hi", "output": "hi"}]))))
    freeze_dataset(store, "talk", {})
    out = {form: [json.loads(line) for line in open(export_jsonl(store, "talk", tmp_path / f"{form}.jsonl", form)["path"])]
           for form in ("messages", "sharegpt", "alpaca")}
    assert out["messages"][0] == {"messages": TALK}
    assert out["messages"][1]["messages"][-1] == {"role": "assistant", "content": "hi"}
    assert out["sharegpt"][0] == {"conversations": sharegpt(TALK)}
    assert out["alpaca"][0] == {"instruction": TALK[3]["content"], "input": "", "output": TALK[4]["content"],
                                "history": [[TALK[1]["content"], TALK[2]["content"]]], "system": TALK[0]["content"]}
    assert out["alpaca"][1] == {"instruction": "Say hi", "input": "", "output": "hi"}
    from datasets import load_from_disk

    from pipeline.pairs.export import save_to_disk

    on_disk = load_from_disk(save_to_disk(store, "talk", tmp_path / "disk")["path"])
    assert on_disk[0]["messages"] == TALK and TALK[2]["content"] in on_disk[0]["text"]
    assert TALK[4]["content"] in on_disk[0]["text"]  # the `text` column holds every turn
    # a sharegpt export imports back as the same conversations
    again = import_file(store, ImportConfig(path=str(tmp_path / "sharegpt.jsonl")))
    assert again["imported"] == 2 and store.count_pairs() == 4


def test_edit_a_conversation_with_history_and_frozen_copy_unchanged(store, tmp_path):
    import_file(store, ImportConfig(path=str(write(tmp_path / "c.jsonl", [{"messages": TALK}]))))
    pair = store.query_pairs({})["rows"][0]
    pair = store.get_pair(pair["id"])
    ds = freeze_dataset(store, "talk", {})
    edited = [dict(m) for m in TALK]
    edited[3]["content"] = "Now do it without a copy."
    after = store.edit_pair_messages(pair["id"], edited, revision=pair["revision"])
    assert json.loads(after["messages"]) == edited and "messages" in after["edited_fields"]
    assert "+Now do it without a copy." in store.messages_diff(pair["id"])
    with pytest.raises(ConflictError):
        store.edit_pair_messages(pair["id"], TALK, revision=pair["revision"])
    with pytest.raises(StoreError, match="ends with a user message"):
        store.edit_pair_messages(pair["id"], edited[:4], revision=after["revision"])
    assert store.dataset_examples(ds["id"])[0]["messages"] == TALK


def test_cli_imports_and_exports_sharegpt(studio_home, tmp_path):
    path = write(tmp_path / "sg.jsonl", [{"conversations": sharegpt(TALK)}])
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "pairs", *a], capture_output=True,
                                    text=True, env={**__import__("os").environ, "STUDIO_HOME": str(studio_home)})
    assert run("import", str(path)).returncode == 0
    assert run("freeze", "sg").returncode == 0
    result = run("export", "sg", "--form", "sharegpt", "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out.jsonl").read_text()) == {"conversations": sharegpt(TALK)}


def test_dedup_and_decontamination_read_every_turn(store, tmp_path):
    from pipeline.clean.job import CleanConfig, run_clean

    tunnel = ("def zorblax_quantum_tunnel(particles, barrier_height):\n"
              "    return sum(p.energy > barrier_height for p in particles) / len(particles)\n")
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"task_id": "ex/1", "prompt": tunnel}) + "\n")
    hidden = [dict(m) for m in TALK]
    hidden[2]["content"] = tunnel  # the eval item sits in the middle turn, not in the mirrored ends
    other = [dict(m) for m in TALK]
    other[3]["content"] = "Now sort it too."  # differs from TALK only in a middle turn
    import_file(store, ImportConfig(path=str(write(tmp_path / "c.jsonl", [{"messages": TALK}, {"messages": hidden},
                                                                         {"messages": other}, {"messages": TALK[:3] + TALK[3:]}]))))
    ids = sorted(r["id"] for r in store.query_pairs({})["rows"])
    summary = run_clean(store, CleanConfig(suites=[str(suite)], near_dedup=False, filters=False, dedup_on="pair"),
                        log=lambda m: None)
    assert summary["contaminated"] == 1 and store.get_pair(ids[1])["contaminated_by"] == "suite:ex/1"
    groups = [store.get_pair(i)["dup_group"] for i in ids]
    assert groups[0] is not None and groups[0] == groups[3]  # the same conversation twice
    assert groups[2] is None  # same ends, another middle turn: not a duplicate


def test_review_panel_edits_the_conversation_not_its_mirror(store, tmp_path):
    import sqlite3

    from pipeline.pairs.conversations import ConversationError
    from studio.conversation_view import messages_json, save_conversation

    import_file(store, ImportConfig(path=str(write(tmp_path / "c.jsonl", [{"messages": TALK}]))))
    pair = store.get_pair(store.query_pairs({})["rows"][0]["id"])
    seen = {"id": pair["id"], "revision": pair["revision"]}
    assert json.loads(messages_json(pair)) == TALK
    with pytest.raises(ConversationError, match="ends with a user message.*nothing was saved"):
        save_conversation(store, seen, json.dumps(TALK[:4]))
    after = save_conversation(store, seen, json.dumps(sharegpt(TALK[:3])))  # ShareGPT JSON is accepted too
    assert json.loads(after["messages"]) == TALK[:3]
    with pytest.raises(sqlite3.IntegrityError, match="this pair is a conversation"):
        store.edit_pair(pair["id"], {"output": "x"}, revision=after["revision"])
    assert store.edit_pair(pair["id"], status="approved", revision=after["revision"])["status"] == "approved"


def test_cli_shows_and_edits_a_conversation(studio_home, store, tmp_path):
    import os

    import_file(store, ImportConfig(path=str(write(tmp_path / "c.jsonl", [{"messages": TALK}]))))
    pair_id = store.query_pairs({})["rows"][0]["id"]
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "pairs", *a], capture_output=True, text=True,
                                    env=dict(os.environ))
    shown = run("show", str(pair_id))
    assert "--- conversation" in shown.stdout and "[user]\nNow make it work in place." in shown.stdout
    refused = run("edit", str(pair_id), "--field", "output", "--value", "x")
    assert refused.returncode == 2 and "is a conversation" in refused.stderr and "Traceback" not in refused.stderr
    edited = sharegpt(TALK)
    edited[4]["value"] = "func rev(a):\n\ta.reverse()  # in place"
    (tmp_path / "e.json").write_text(json.dumps(edited))
    assert run("messages", str(pair_id), "--file", str(tmp_path / "e.json")).returncode == 0
    assert json.loads(run("messages", str(pair_id)).stdout)[4]["content"].endswith("# in place")
