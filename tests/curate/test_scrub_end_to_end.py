"""No planted secret leaves: a repo with every kind of credential and personal data curates, labels
through a local OpenAI-compatible server that records every request, freezes, exports (JSONL and
`datasets` on disk) and pushes a dataset and a model to a local hub-shaped server; no planted value
reaches the labeller, the database file, an export or the hub, and the hub gets both cards."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.curate.job import CurateConfig, add_local_repo, curate_repo
from pipeline.label.labeller import LabelConfig, run_labelling
from pipeline.pairs.export import export_jsonl, freeze_dataset, save_to_disk
from tests.curate_repos import make_repo
from tests.hub_server import HubServer
from tests.label_helpers import FAST, register_endpoint
from tests.label_openai_server import LabelServer
from tests.scrub_corpus import KINDS, db_bytes, function, plant

ROOT = Path(__file__).resolve().parents[2]


def _mit() -> str:
    from identify.vendor.licenses import LICENSES

    return dict(LICENSES)["MIT"].replace("[year]", "2025").replace("[fullname]", "Octo Dev")


def _planted_repo(path: Path) -> tuple[Path, list[str]]:
    rng = random.Random(26)
    files, values = {"LICENSE": _mit()}, []
    for i, kind in enumerate(KINDS):
        value, line = plant(rng, kind)
        values.append(value)
        files[f"src/{kind}.py"] = function(rng, i, line)
    email, _ = plant(rng, "email")  # personal data in the comment above a function (the docstring)
    values.append(email)
    files["src/owner.py"] = f"# Maintained by {email}\ndef owner(items):\n    return sorted(items)[:3]\n"
    return make_repo(path, [("add services", files)]), values


def _leaks(blob: bytes, values: list[str]) -> list[str]:
    return [v for v in values if any(part.encode() in blob for part in _parts(v))]


def _parts(value: str) -> list[str]:
    """A PEM block is searched line by line (a JSON or Parquet writer may escape its newlines)."""
    return [p for p in value.split("\n") if len(p) >= 8 and "-----" not in p] or [value]


@pytest.mark.slow
def test_planted_secrets_never_reach_the_labeller_the_db_the_exports_or_the_hub(store, studio_home, tmp_path):
    repo_dir, planted = _planted_repo(tmp_path / "services")
    repo = store.get_repo(add_local_repo(store, str(repo_dir)))
    curate_repo(store, repo, CurateConfig(min_lines=1))
    repo = store.get_repo(repo["id"])
    assert repo["license"] == "MIT"
    assert repo["stats"]["scrub"]["snippets_scrubbed"] == len(KINDS) + 1 and repo["stats"]["scrub"]["held"] == 0

    seen: list[str] = []

    def reply(body, name, attempt):
        seen.append(json.dumps(body))
        return f"Write a Python function named {name} that totals item weights."

    with LabelServer() as server:
        server.reply = reply
        register_endpoint(store, server)
        run_labelling(store, LabelConfig(model="test-model", **FAST), log=lambda m: None)
    assert len(seen) == len(KINDS) + 1
    assert _leaks("\n".join(seen).encode(), planted) == []
    assert "<API_KEY>" in "\n".join(seen) and "<EMAIL>" in "\n".join(seen)

    dataset = freeze_dataset(store, "services", {"status": ["draft"]})
    prov = store.dataset_provenance(dataset["id"])
    assert prov["licenses"] == {"MIT": len(KINDS) + 1} and prov["repos"][0]["commits"] == [repo["commit_sha"]]
    jsonl = export_jsonl(store, "services", tmp_path / "out.jsonl")
    disk = save_to_disk(store, "services", tmp_path / "disk")
    assert jsonl["rows"] == disk["rows"] == len(KINDS) + 1
    import datasets

    on_disk = datasets.load_from_disk(str(tmp_path / "disk"))
    assert set(on_disk["license"]) == {"MIT"} and set(on_disk["source"]) == {f"local/services@{repo['commit_sha'][:12]}"}
    card_on_disk = (tmp_path / "disk" / "README.md").read_text()
    assert "license: mit" in card_on_disk and "local/services" in card_on_disk

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    (model_dir / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    run = store.create_run("services-lora", {"method": "lora", "epochs": 2, "learning_rate": 2e-4},
                           base_model="HuggingFaceTB/SmolLM2-135M-Instruct", dataset_id=dataset["id"], method="lora")
    store.register_model("services-lora", "local", str(model_dir), run_id=run["id"])
    store.db["evals"].insert({"suite": "humaneval", "model": "services-lora", "status": "done", "params": "{}",
                              "metrics": json.dumps({"pass_at_k": {"1": 0.25}})})

    with HubServer(require_token="hf_pushtoken123") as hub:
        env = dict(os.environ, STUDIO_HOME=str(studio_home), HF_ENDPOINT=hub.url, HF_TOKEN="hf_pushtoken123",
                   HF_HUB_OFFLINE="0", HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
        for args in (["pairs", "export", "services", "--to", "hub", "--repo-id", "me/services"],
                     ["train", "push", "services-lora", "me/services-lora"]):
            proc = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=240)
            assert proc.returncode == 0, proc.stderr[-2000:]
        assert hub.unknown == []
        pushed = hub.all_bytes()
        dataset_files = hub.files[("dataset", "me/services")]
        model_files = hub.files[("model", "me/services-lora")]
        assert {"README.md", "data/train-00000-of-00001.parquet"} <= set(dataset_files)
        assert {"README.md", "adapter_model.safetensors"} <= set(model_files)
        assert hub.validated.count("dataset") >= 1 and hub.validated.count("model") >= 1

    from huggingface_hub import DatasetCard, ModelCard

    dcard = DatasetCard(dataset_files["README.md"].decode())
    assert dcard.data.license == "mit" and "dataset_info" in dcard.data.to_dict()  # datasets kept our card
    assert "Secrets and personal data: 17 examples" in dcard.text
    mcard = ModelCard(model_files["README.md"].decode())
    assert mcard.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and mcard.data.datasets == ["services@1"]
    assert [(r.metric_type, r.metric_value) for r in mcard.data.eval_results] == [("pass@1", 0.25)]

    for where, blob in (("database", db_bytes(store)), ("jsonl", (tmp_path / "out.jsonl").read_bytes()),
                        ("disk", b"".join(p.read_bytes() for p in (tmp_path / "disk").rglob("*") if p.is_file())),
                        ("hub", pushed)):
        assert _leaks(blob, planted) == [], where
