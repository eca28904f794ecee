"""Hub cards from lineage: what the dataset and model cards say, parsed back with the hub client's
own classes, and the `card` command that previews them."""
from __future__ import annotations

import json

import pytest
from huggingface_hub import DatasetCard, ModelCard

from pipeline.lineage.cards import CardError, card_text, dataset_card, model_card
from pipeline.pairs.export import freeze_dataset
from tests.pairs_helpers import add_pairs


@pytest.fixture
def frozen(store):
    for name, lic in (("octo/a", "MIT"), ("octo/b", "Apache-2.0")):
        [repo_id], _ = store.add_repos([{"full_name": name, "url": f"https://github.com/{name}", "license": lic,
                                         "commit_sha": ("a" if lic == "MIT" else "b") * 40}])
        store.replace_snippets(repo_id, [{"path": "x.py", "language": "python", "kind": "function", "name": "f",
                                          "code": f"def f(): return {repo_id}", "content_hash": f"h{repo_id}",
                                          "license": lic, "scrub": json.dumps([{"kind": "token", "line": 1}])}])
    snippets = [r[0] for r in store.db.execute("SELECT id FROM snippets ORDER BY id")]
    ids = add_pairs(store, [{"instruction": f"do {i}", "output": "x", "language": "python"} for i in range(3)])
    for pid, sid in zip(ids, snippets):
        store.db.execute("UPDATE pairs SET snippet_id = ?, labeller = 'gpt-x', prompt_version = 'label@3' WHERE id = ?",
                         [sid, pid])
    store.db.conn.commit()
    return freeze_dataset(store, "sft")


def test_the_dataset_card_carries_licenses_sources_and_figures(store, frozen):
    card = DatasetCard(str(dataset_card(store, "sft")))
    assert card.data.license == ["apache-2.0", "mit"] and card.data.pretty_name == "sft v1"
    assert "codetune-studio" in card.data.tags and "python" in card.data.tags
    assert "| octo/a | MIT | aaaaaaaaaaaa | 1 |" in card.text and "| octo/b | Apache-2.0 | bbbbbbbbbbbb | 1 |" in card.text
    assert "none (import): 1" in card.text  # the third pair has no repository
    assert "Labellers: gpt-x: 2; prompt versions: label@3: 2" in card.text
    assert "2 examples had values replaced" in card.text and "token: 2" in card.text


def test_the_model_card_names_base_dataset_settings_and_evals_in_model_index(store, frozen):
    run = store.create_run("r1", {"method": "lora", "learning_rate": 0.0002, "epochs": 3},
                           base_model="HuggingFaceTB/SmolLM2-135M-Instruct", dataset_id=frozen["id"], method="lora")
    store.register_model("ckpt", "local", "/nowhere", run_id=run["id"])
    store.db["evals"].insert({"suite": "humaneval", "model": "ckpt", "status": "done", "params": "{}",
                              "metrics": json.dumps({"pass_at_k": {"1": 0.31, "10": 0.5}, "note": "x"})})
    store.db["evals"].insert({"suite": "mbpp", "model": "ckpt", "status": "running", "params": "{}", "metrics": None})
    card = ModelCard(card_text(store, "model", "ckpt"))
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and card.data.datasets == ["sft@1"]
    assert card.data.library_name == "peft" and card.data.license == ["apache-2.0", "mit"]
    assert [(r.dataset_name, r.metric_type, r.metric_value) for r in card.data.eval_results] == [
        ("humaneval", "pass@1", 0.31), ("humaneval", "pass@10", 0.5)]  # an unfinished eval is not a result
    assert "model-index" in card.content and "- learning_rate: `0.0002`" in card.text
    assert "## Intended use and limits" in card.text


def test_a_model_with_no_run_still_gets_an_honest_card(store):
    store.register_model("imported", "local", "/nowhere")
    card = model_card(store, "imported")
    assert card.data.base_model is None and "No training run is recorded" in card.text
    assert "No finished evaluation is recorded" in card.text
    with pytest.raises(CardError, match="no model 'ghost'"):
        model_card(store, "ghost")


def test_card_command_prints_or_writes_the_card(store, frozen, capsys, tmp_path):
    from pipeline.__main__ import main

    assert main(["card", "dataset", "sft@1"]) == 0
    assert "license:" in capsys.readouterr().out
    assert main(["card", "dataset", "sft", "--out", str(tmp_path / "README.md")]) == 0
    assert DatasetCard((tmp_path / "README.md").read_text()).data.pretty_name == "sft v1"
    assert main(["card", "model", "ghost"]) == 2
    assert capsys.readouterr().err.startswith("error: no model 'ghost'")
