"""Which engine runs a model, and at which quantization: chosen here, recorded with every answer.

    route(spec, "auto")        # → the spec the backend runs, with "engine" and "quant" set
    describe(model, "auto")    # → {"engine": "llama.cpp", "quant": "q8_0"} without loading anything

Engines: `transformers` (any local folder, hub id, adapter, GGUF dequantized), `llama.cpp` (a GGUF
file: the model is one, or it has a GGUF export recorded in its meta), `vllm` (batch generation on a
CUDA GPU), and `openai-compatible` endpoints. `auto` picks the fastest that can run the model here:
vLLM for batches where it runs, else llama.cpp where the model has a GGUF and llama-cpp-python is
installed, else transformers. A model's GGUF exports are `meta["gguf"] = {quant: path}`; llama.cpp
prefers q8_0 (closest to the full weights), then f16, then the smaller quantizations.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.models import ModelError

ENGINES = ("auto", "transformers", "llama.cpp", "vllm")
PREFERRED_QUANTS = ("q8_0", "f16", "bf16", "f32", "q4_k_m")


def torch_quant() -> str:
    """What transformers computes in here: fp32 on a CPU, bf16 (or f16) on a GPU."""
    import torch

    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "f16"
    return "fp32"


def gguf_exports(spec: dict) -> dict[str, str]:
    """The model's GGUF files that exist on disk, by quantization."""
    meta = spec.get("meta") or {}
    if isinstance(meta, str):
        import json

        meta = json.loads(meta or "{}")
    found = meta.get("gguf") or {}
    return {q: p for q, p in found.items() if p and Path(p).is_file()}


def gguf_for(spec: dict, quant: str | None = None) -> tuple[str, str] | None:
    """(path, quant) of the GGUF llama.cpp would run for this model, or None."""
    from pipeline.models.backends.llamacpp import gguf_quant

    if spec["kind"] == "gguf":
        path = spec.get("path")
        return (path, gguf_quant(path)) if path and Path(path).is_file() else None
    exports = gguf_exports(spec)
    if quant:
        return (exports[quant], quant) if quant in exports else None
    for q in PREFERRED_QUANTS + tuple(sorted(exports)):
        if q in exports:
            return exports[q], q
    return None


def route(spec: dict, engine: str = "auto", *, batch: bool = False) -> dict:
    """The spec a backend runs: `engine` and `quant` set; for llama.cpp, `path` is the GGUF file."""
    from pipeline.models.backends import llamacpp, vllm_backend

    engine = (engine or "auto").strip().lower()
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if spec["kind"] == "openai":
        return dict(spec, engine="openai-compatible", quant="endpoint")
    if engine == "vllm" or (engine == "auto" and batch and spec["kind"] in ("local", "hf")
                            and vllm_backend.available()):
        if not vllm_backend.available():
            raise ModelError("vLLM is not usable here (it needs the vllm package and a CUDA GPU)")
        return dict(spec, engine="vllm", quant=torch_quant())
    if engine in ("auto", "llama.cpp"):
        found = gguf_for(spec) if llamacpp.available() else None
        if found:
            path, quant = found
            return dict(spec, kind="gguf", path=path, base=None, engine="llama.cpp", quant=quant,
                        source_path=spec.get("path"))
        if engine == "llama.cpp":
            if not llamacpp.available():
                raise ModelError("llama.cpp is not installed here (llama-cpp-python; `make setup` builds it)")
            raise ModelError(f"{spec.get('name')} has no GGUF file for llama.cpp; export one first "
                             f"(`python -m pipeline models export-gguf {spec.get('name')}`)")
    return dict(spec, engine="transformers", quant=torch_quant())


def describe(spec: dict, engine: str = "auto", *, batch: bool = True) -> dict:
    routed = route(spec, engine, batch=batch)
    return {"engine": routed["engine"], "quant": routed["quant"]}


def backend_class(spec: dict):
    """The class that loads a routed spec into the shared cache."""
    if spec.get("engine") == "llama.cpp":
        from pipeline.models.backends.llamacpp import LlamaCppModel

        return LlamaCppModel
    from pipeline.models.backends.hf import LocalModel

    return LocalModel
