"""Prompt templates, frozen datasets and their exports (JSONL, save_to_disk, push_to_hub's errors)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.models.templates import STOP_WORDS, TEMPLATES, render, to_messages
from pipeline.pairs.export import ExportError, export_jsonl, freeze_dataset, push_to_hub, save_to_disk
from tests.browser import free_port
from tests.pairs_helpers import add_pairs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reviewed(store):
    ids = add_pairs(store, [
        {"instruction": "Reverse a list", "output": "def rev(xs):\n    return xs[::-1]\n", "status": "approved"},
        {"instruction": "Add two numbers", "input": "a=1, b=2", "output": "a + b", "status": "approved"},
        {"instruction": "Draft only", "output": "pass"},
        {"instruction": "Rejected one", "output": "pass", "status": "rejected"},
    ])
    return ids


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_renders_prompt_as_a_prefix_of_the_full_text(name):
    prompt = render(name, "Add two numbers", "a=1, b=2")
    full = render(name, "Add two numbers", "a=1, b=2", "a + b")
    assert full.startswith(prompt) and full[len(prompt):].lstrip().startswith("a + b")
    assert "a=1, b=2" in prompt and name in STOP_WORDS


def test_template_shapes():
    assert render("alpaca", "Do it", "").endswith("### Instruction:\nDo it\n\n### Response:\n")
    assert render("octopack", "Do it", "", "done") == "Question: Do it\n\nAnswer: done"
    assert render("chat", "Do it", "") == "<|im_start|>user\nDo it<|im_end|>\n<|im_start|>assistant\n"
    assert to_messages("Do it", "ctx", "done") == [{"role": "user", "content": "Do it\n\nctx"},
                                                  {"role": "assistant", "content": "done"}]
    with pytest.raises(ValueError, match="unknown prompt template 'vicuna'"):
        render("vicuna", "x", "")


@pytest.mark.slow
def test_chat_template_uses_a_tokenizer_when_given(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = render("chat", "Say hi", "", tokenizer=tok)
    assert prompt == "<|user|>Say hi\n<|assistant|>"
    assert render("chat", "Say hi", "", "hi", tokenizer=tok) == prompt + "hi" + tok.eos_token


def test_freeze_versions_and_default_selection(store, reviewed):
    first = freeze_dataset(store, "sft", {}, "alpaca")
    second = freeze_dataset(store, "sft", {"status": "approved"}, "octopack")
    assert (first["version"], second["version"]) == (1, 2)
    assert first["pair_ids"] == reviewed[:3]  # rejected left out unless the filter names statuses
    assert second["pair_ids"] == reviewed[:2] and second["filter"] == {"status": ["approved"], "flag": "clean"}
    assert store.get_dataset("sft")["version"] == 2 and store.get_dataset("sft@1")["template"] == "alpaca"


def test_freeze_leaves_flagged_pairs_out_unless_asked(store, reviewed):
    store.set_contaminated({reviewed[0]: "humaneval:HumanEval/0"})
    assert freeze_dataset(store, "a", {"status": "approved"})["pair_ids"] == [reviewed[1]]
    assert freeze_dataset(store, "b", {"status": "approved"}, exclude_flagged=False)["pair_ids"] == reviewed[:2]


def test_freezing_nothing_or_an_unknown_template_is_refused(store, reviewed):
    from pipeline.store import NotFoundError, StoreError

    with pytest.raises(StoreError, match="would be empty"):
        freeze_dataset(store, "none", {"language": "cobol"})
    with pytest.raises(ExportError, match="unknown prompt template"):
        freeze_dataset(store, "x", {}, "vicuna")
    with pytest.raises(NotFoundError, match="no dataset 'ghost'"):
        store.get_dataset("ghost")


def test_export_jsonl_both_forms_and_notices_later_edits(store, reviewed, tmp_path):
    freeze_dataset(store, "sft", {"status": "approved"})
    alpaca = export_jsonl(store, "sft", tmp_path / "a.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert alpaca["rows"] == 2 and not alpaca["changed_since_freeze"]
    assert lines[1] == {"instruction": "Add two numbers", "input": "a=1, b=2", "output": "a + b"}
    export_jsonl(store, "sft@1", tmp_path / "m.jsonl", form="messages")
    first = json.loads((tmp_path / "m.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    pair = store.get_pair(reviewed[0])
    store.edit_pair(pair["id"], {"output": "def rev(xs):\n    return list(reversed(xs))\n"}, revision=pair["revision"])
    assert export_jsonl(store, "sft", tmp_path / "b.jsonl")["changed_since_freeze"]


@pytest.mark.slow
def test_save_to_disk_loads_back_with_the_rendered_text(store, reviewed, tmp_path):
    import datasets

    freeze_dataset(store, "sft", {"status": "approved"}, "octopack")
    result = save_to_disk(store, "sft", tmp_path / "ds")
    loaded = datasets.load_from_disk(str(tmp_path / "ds"))
    assert result["rows"] == 2 and loaded["pair_id"] == reviewed[:2]
    assert loaded[1]["text"] == "Question: Add two numbers\n\na=1, b=2\n\nAnswer: a + b"
    meta = json.loads((tmp_path / "ds" / "codetune_dataset.json").read_text())
    assert (meta["name"], meta["version"], meta["template"]) == ("sft", 1, "octopack")


def test_push_to_hub_without_a_token_says_which_variable(store, reviewed, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    freeze_dataset(store, "sft", {"status": "approved"})
    with pytest.raises(ExportError, match="set HF_TOKEN to a Hugging Face token"):
        push_to_hub(store, "sft", "me/sft")
    with pytest.raises(ExportError, match="should look like 'user/name'"):
        push_to_hub(store, "sft", "a/b/c")


@pytest.mark.slow
def test_push_to_hub_unreachable_fails_clearly_without_leaking_the_token(studio_home):
    """The real push path, in a child process whose hub endpoint is a closed local port."""
    from pipeline.store import Store

    store = Store(studio_home / "studio.db")
    add_pairs(store, [{"instruction": "Reverse a list", "output": "xs[::-1]", "status": "approved"}])
    freeze_dataset(store, "sft", {"status": "approved"})
    env = dict(os.environ, STUDIO_HOME=str(studio_home), HF_TOKEN="hf_s3cr3tvalue", HF_HUB_OFFLINE="0",
               HF_ENDPOINT=f"http://127.0.0.1:{free_port()}", HF_HUB_ETAG_TIMEOUT="2", HF_HUB_DOWNLOAD_TIMEOUT="2")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "pairs", "export", "sft", "--to", "hub",
                           "--repo-id", "me/sft"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: could not push sft@1 to the hub repo me/sft: ")
    assert "check the network connection and that HF_TOKEN can write there" in proc.stderr
    assert "hf_s3cr3tvalue" not in proc.stderr + proc.stdout
