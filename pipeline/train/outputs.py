"""What a run leaves behind: merged models, hub uploads, config diffs, curves and its cost line.

    merge_adapter(store, "gd-lora-step120")            # → model "gd-lora-step120-merged"
    push_to_hub(store, "gd-lora-step120", "me/gd-lora", token=os.environ["HF_TOKEN"])
    cost_line(run)                                      # "0.42 device-hours × $2.00 = $0.84"

The hub token comes from the caller (the session or HF_TOKEN) and is never stored or logged.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline.paths import named_path
from pipeline.train import MARKER, TrainError
from pipeline.train.config import config_diff


def merge_adapter(store, model_name: str, out_name: str | None = None) -> dict:
    """Fold a LoRA checkpoint into its base weights: a plain model folder, registered."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline import access
    from pipeline.models import checked_spec
    from pipeline.models.backends.hf import _adapter_base

    model = store.get_model(model_name)
    out_name = out_name or f"{model_name}-merged"
    out_dir = named_path("models", out_name)      # the one validator: no '..', no '/', inside models/
    checked_spec(model, naming=False)             # its adapter and base: folders the caller may read
    access.require(access.Cap.WRITE_DATA, access.Target(path=out_dir, what=f"merge {model_name} into {out_name}"))
    access.require(access.Cap.SPEND_COMPUTE, access.Target(what=f"merge {model_name}"))
    path = Path(model["path"] or "")
    if not (path / "adapter_config.json").exists():
        raise TrainError(f"model {model_name!r} is not a LoRA adapter (no adapter_config.json in {path})")
    base = model["base"] or _adapter_base(str(path))
    if out_dir.exists():
        raise TrainError(f"{out_dir} already exists; pick another name for the merged model")
    from pipeline.models import LOAD_LOCK, torch_globals_restored

    with LOAD_LOCK, torch_globals_restored():  # not while the studio loads another model
        merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                                           str(path)).merge_and_unload()
    tok_source = path if (path / "tokenizer_config.json").exists() else base
    try:
        merged.save_pretrained(out_dir)
        AutoTokenizer.from_pretrained(tok_source).save_pretrained(out_dir)
    except OSError as exc:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise TrainError(f"cannot write the merged model to {out_dir}: {exc.strerror or exc}") from exc
    marker = dict(model["meta"] or {}, merged_from=model_name, method="merged")
    (out_dir / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True))
    return store.register_model(out_name, "local", str(out_dir), template=model["template"],
                                run_id=model["run_id"], meta=marker)


def push_to_hub(store, model_name: str, repo_id: str, *, token: str | None = None, private: bool = True,
                token_env: str = "HF_TOKEN") -> str:
    """Upload a model or adapter folder (with its codetune.json) to the hub; returns its URL.
    `token` is one pasted for the session; without it the server's `token_env` is used, which the
    gate allows only for the owner's namespaces (STUDIO_HUB_NAMESPACES)."""
    import os

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from pipeline import access
    from pipeline.paths import server_path

    model = store.get_model(model_name)
    if model["kind"] != "local" or not model["path"]:
        raise TrainError(f"model {model_name!r} is not a local folder; only local models can be pushed")
    if "/" not in repo_id.strip("/"):
        raise TrainError(f"hub repo {repo_id!r} must be owner/name")
    folder = server_path(model["path"], f"model {model_name!r} folder")   # the validator, then the gate
    access.require(access.Cap.PUSH_HUB, access.Target(
        path=folder, namespace=repo_id.strip("/").partition("/")[0], secret=None if token else token_env,
        what=f"push {model_name} to {repo_id}"))
    if not folder.is_dir():
        raise TrainError(f"model {model_name!r} is not a local folder; only local models can be pushed")
    token = token or os.environ.get(token_env)
    if not token:
        raise TrainError("pushing needs a Hugging Face token with write access: set HF_TOKEN or paste one")
    from pipeline.lineage.cards import model_card

    card = model_card(store, model_name)  # made and validated before anything is uploaded
    api = HfApi(token=token)
    access.reached(access.Cap.PUSH_HUB)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id,
                          commit_message=f"CodeTune Studio: {model_name}")
        api.upload_file(path_or_fileobj=str(card).encode(), path_in_repo="README.md", repo_id=repo_id,
                        commit_message=f"model card of {model_name}")
    except OfflineModeIsEnabled as exc:
        raise TrainError("the Hugging Face hub is switched off here (HF_HUB_OFFLINE=1); unset it and "
                         "connect to the internet to push") from exc
    except HfHubHTTPError as exc:
        raise TrainError(f"the hub refused the upload: {str(exc).splitlines()[0][:200]}") from exc
    except Exception as exc:
        # No network, DNS, TLS, refused: the hub client raises its HTTP library's transport errors
        # (httpx's, not OSError subclasses); anything else is a bug and keeps its traceback.
        if not (isinstance(exc, OSError) or type(exc).__module__.split(".")[0].startswith(("httpx", "requests"))):
            raise
        raise TrainError(f"cannot reach the Hugging Face hub ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:160]}); check the connection and retry") from exc
    return f"https://huggingface.co/{repo_id}"


def device_hours(run: dict) -> float:
    return (run.get("train_seconds") or 0.0) / 3600.0 * (run.get("num_devices") or 1)


def cost_line(run: dict) -> str:
    hours = device_hours(run)
    price = (run.get("config") or {}).get("price_per_gpu_hour") or 0.0
    if not price:
        return f"{hours:.3f} device-hours (set price_per_gpu_hour to price it)"
    return f"{hours:.3f} device-hours × ${price:.2f} = ${hours * price:.2f}"


def diff_runs(store, a, b) -> list[tuple[str, object, object]]:
    ra, rb = store.get_run(a), store.get_run(b)
    extra = lambda r: {"dataset": f"{r['dataset']}@{r['dataset_version']}", "base": r["base_model"]}
    return config_diff({**ra["config"], **extra(ra)}, {**rb["config"], **extra(rb)})


def curves(store, run_refs: list) -> list[dict]:
    """Long-format rows (run, step, series, value) for one plot of several runs."""
    rows = []
    for ref in run_refs:
        run = store.get_run(ref)
        for m in store.run_metrics(run["id"]):
            for series in ("loss", "eval_loss"):
                if m[series] is not None:
                    rows.append({"run": run["name"], "step": m["step"], "series": series,
                                 "value": m[series], "curve": f"{run['name']} {series}"})
    return rows
