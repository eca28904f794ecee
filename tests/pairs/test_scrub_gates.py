"""The scrub pass at the studio's other doors: imported pairs, chat answers sent to the dataset,
and every export (the last gate, for text a labeller or a person wrote after curation)."""
from __future__ import annotations

import json
import random

import pytest

from pipeline.chat import ChatError, send_to_pairs
from pipeline.pairs.export import export_jsonl, freeze_dataset
from pipeline.pairs.importer import ImportConfig, import_file
from tests.pairs_helpers import add_pairs
from tests.scrub_corpus import db_bytes, plant


def test_imported_pairs_are_scrubbed_before_they_are_stored(store, tmp_path):
    token, line = plant(random.Random(1), "hf_token")
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"instruction": "Log in to the hub", "output": line},
        {"instruction": "Mail the admin at zoe.kim@corp-mail.com", "output": "send(to)"},
        {"instruction": "Load the key", "output": "KEY = '-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIK'"},
    ]) + "\n")
    report = import_file(store, ImportConfig(path=str(path)))
    assert (report["imported"], report["scrubbed"], report["held_back"]) == (2, 2, 1)
    assert report["errors"] == [{"line": 3, "error": "held back: output: a private key block on line 1 has no "
                                                      "END line, so it cannot be cut out safely"}]
    outputs = [p["output"] for p in store.db["pairs"].rows_where(order_by="id")]
    assert outputs[0] == 'login(token="<TOKEN>")'
    first = store.pair_ids()[0]
    assert store.pair_scrub(first) == [{"kind": "token", "line": 1, "field": "output"}]
    stored = db_bytes(store)
    assert token.encode() not in stored and b"zoe.kim" not in stored and b"MHcCAQEEIK" not in stored


@pytest.fixture
def chat_with_a_leaky_answer(store):
    chat_id = store.create_chat(["m1"])
    store.add_message(chat_id, "user", "How do I call the API?", turn=0)
    answer = store.add_message(chat_id, "assistant", 'client = Stripe(api_key="sk_live_4eC39HqLyjWDarjtT1zdp7dc")',
                               turn=0, model="m1", col=0)
    return chat_id, answer


def test_a_chat_answer_sent_to_the_dataset_is_scrubbed(store, chat_with_a_leaky_answer):
    chat_id, answer = chat_with_a_leaky_answer
    [pair_id] = send_to_pairs(store, chat_id, message_id=answer)
    pair = store.row("pairs", pair_id)
    assert (pair["instruction"], pair["output"]) == ("How do I call the API?", 'client = Stripe(api_key="<API_KEY>")')
    assert store.pair_scrub(pair_id) == [{"kind": "api_key", "line": 1, "field": "output"}]
    assert send_to_pairs(store, chat_id, message_id=answer) == [pair_id]  # the same answer: the same pair


def test_a_chat_answer_that_cannot_be_made_safe_is_refused(store, chat_with_a_leaky_answer):
    chat_id, _ = chat_with_a_leaky_answer
    bad = store.add_message(chat_id, "assistant", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", turn=0, model="m1", col=0)
    with pytest.raises(ChatError, match="cannot go to the dataset: output: a private key block"):
        send_to_pairs(store, chat_id, message_id=bad)


def test_export_is_the_last_gate_for_text_written_after_curation(store, tmp_path):
    secret, line = plant(random.Random(2), "aws_key")
    add_pairs(store, [{"instruction": "Read the bucket", "output": line, "status": "approved"},
                      {"instruction": "Add", "output": "a + b", "status": "approved"},
                      {"instruction": "Sign", "output": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", "status": "approved"}])
    # a reviewer pasted them after the import pass, straight into the store
    store.db.execute("UPDATE pairs SET output = ? WHERE instruction = 'Read the bucket'", [line])
    store.db.execute("UPDATE pairs SET output = ? WHERE instruction = 'Sign'", ["-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"])
    store.db.conn.commit()
    freeze_dataset(store, "sft", {"status": ["approved"]})
    result = export_jsonl(store, "sft", tmp_path / "out.jsonl")
    text = (tmp_path / "out.jsonl").read_text()
    assert result["rows"] == 2 and result["gate"] == {"scrubbed": 1, "held_back": 1}
    assert secret not in text and "<API_KEY>" in text and "MIIEvQIBADANBg" not in text


def test_training_reads_the_frozen_examples_through_the_same_gate(store):
    from pipeline.train.data import dataset_examples

    secret, line = plant(random.Random(3), "openai_key")
    add_pairs(store, [{"instruction": "Call the model", "output": "x", "status": "approved"}])
    store.db.execute("UPDATE pairs SET output = ?", [line])  # written after the import pass
    store.db.conn.commit()
    ds = freeze_dataset(store, "sft", {"status": ["approved"]})
    [example] = dataset_examples(store, ds["id"])
    assert example["output"] == 'openai = OpenAI(api_key="<API_KEY>")' and secret not in str(example)


def test_freezing_records_licenses_commits_and_what_cleaning_left_out(store):
    [repo_id], _ = store.add_repos([{"full_name": "octo/a", "url": "https://github.com/octo/a", "license": "MIT",
                                     "commit_sha": "c0ffee" * 6 + "beef"}])
    store.replace_snippets(repo_id, [{"path": "a.py", "language": "python", "kind": "function", "name": "f",
                                      "code": "def f(): return '<EMAIL>'", "content_hash": "h1", "license": "MIT",
                                      "scrub": json.dumps([{"kind": "email", "line": 1, "field": "code"}])}])
    snippet_id = store.db.execute("SELECT id FROM snippets").fetchone()[0]
    ids = add_pairs(store, [{"instruction": "f", "output": "x"}, {"instruction": "g", "output": "y"}])
    store.db.execute("UPDATE pairs SET snippet_id = ?, repo_id = ?, labeller = 'gpt', prompt_version = 'v2' "
                     "WHERE id = ?", [snippet_id, repo_id, ids[0]])
    store.db.conn.commit()
    store.set_contaminated({ids[1]: "humaneval:HumanEval/1"})
    ds = freeze_dataset(store, "sft")
    prov = store.dataset_provenance(ds["id"])
    assert prov["licenses"] == {"MIT": 1} and prov["repos"][0]["commits"] == ["c0ffee" * 6 + "beef"]
    assert prov["scrub"] == {"pairs_with_replacements": 1, "replaced": {"email": 1}}
    assert prov["labellers"] == {"gpt": 1} and prov["prompt_versions"] == {"v2": 1}
    assert prov["cleaning"] == {"duplicate": 0, "contaminated": 1, "filtered": 0}
