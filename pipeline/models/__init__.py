"""One interface for everything that generates text: chat, labelling, judging, eval generation.

    from pipeline.models import GenParams, generate, stream_chat
    generate("SmolLM2-135M-Instruct", ["def add(a, b):"], GenParams(max_new_tokens=32))
    for text in stream_chat("gpt-4o-mini", [{"role": "user", "content": "hi"}], GenParams()):
        print(text, end="")

`model` is a registered model name or a spec dict with the same keys as a `models` row
(kind: local | hf | gguf | openai; path; base; endpoint; api_key_env; template). A prompt is a
string (plain continuation, what base models and pass@k want) or a list of chat messages (the
model's own chat template is applied; a model without one gets the alpaca layout).

Backends: transformers for local folders, hub ids, GGUF files and base + LoRA adapter (merged
once for generation, see merged); llama.cpp for GGUF files and models with a GGUF export; vLLM
in-process for batch `generate` when it is installed on a CUDA machine; the `openai` client for
any OpenAI-compatible endpoint. `GenParams.engine` (default auto) picks one, see engines.
Loaded weights live in one process-wide LRU cache shared by every browser session, so a
checkpoint is loaded once however many people chat with it. Keys come from the session (`api_key=`) or the environment variable a model names,
and are never stored.

Modules: engines (which engine and quantization run a model), merged (LoRA folded into its base
for generation), export_gguf (the `export_gguf` job: llama.cpp's converter and quantizer) with
ollama (the Modelfile), default_model (the embedded SmolLM2), backends/ (hf, llamacpp, vllm,
openai_compat). CLI: `python -m pipeline models list|add|remove|try|prepare-default|export-gguf`.
"""
from __future__ import annotations

from pipeline.errors import StudioError

import os
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence


# The embedded default model is converted from its GGUF wheel by a job (see default_model);
# GGUF export (llama.cpp's converter + quantizer) is a job too (see export_gguf).
JOB_KINDS = {"prepare_model": "pipeline.models.default_model:prepare_model_job",
             "export_gguf": "pipeline.models.export_gguf:export_gguf_job"}

Prompt = str | list[dict]
CACHE_SIZE = int(os.environ.get("STUDIO_MODEL_CACHE", "2"))


class ModelError(StudioError):
    """A model cannot be loaded or reached; the message says what to fix."""


@dataclass
class GenParams:
    max_new_tokens: int = field(default=256, metadata={"help": "most tokens to generate per prompt"})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy; higher = more random"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass"})
    stop: list[str] = field(default_factory=list, metadata={"help": "cut the output at any of these"})
    seed: int | None = field(default=None, metadata={"help": "sampling seed (reproducible samples)"})
    repetition_penalty: float = field(default=1.0, metadata={"help": "above 1 discourages repeating tokens (1 = off)"})
    batch_size: int = field(default=8, metadata={"help": "prompts per forward pass (local models)"})
    engine: str = field(default="auto", metadata={
        "help": "auto (the fastest that runs the model here) | transformers | llama.cpp | vllm"})

    def to_dict(self) -> dict:
        return asdict(self)


def resolve(model: str | dict) -> dict:
    """A registered model's row, or a spec dict completed with defaults."""
    if isinstance(model, dict):
        spec = {"name": model.get("name") or model.get("path"), "kind": "local", "base": None,
                "endpoint": None, "api_key_env": None, "template": "chat"}
        spec.update(model)
        return spec
    from pipeline.store import open_store

    return open_store().get_model(model)


def generate(model: str | dict, prompts: Sequence[Prompt], params: GenParams | None = None,
             *, api_key: str | None = None, on_tokens: Callable[[int], None] | None = None) -> list[str]:
    """One completion per prompt, in order. Repeat a prompt n times for n samples.

    `on_tokens(n)` is called as tokens are generated (n new ones since the last call), so a long
    batch shows live progress; backends that only answer whole (endpoints, vLLM) call it once."""
    params = params or GenParams()
    spec = _route(resolve(model), params.engine, batch=True)
    if spec["kind"] == "openai":
        from pipeline.models.backends import openai_compat

        outputs = openai_compat.generate(spec, list(prompts), params, api_key=api_key)
    elif spec["engine"] == "vllm":  # GPU + vLLM: much faster batches
        from pipeline.models.backends import vllm_backend

        outputs = vllm_backend.generate(spec, list(prompts), params)
    else:
        return _loaded(spec).generate(list(prompts), params, on_tokens=on_tokens)
    if on_tokens:
        on_tokens(sum(max(1, len(o) // 4) for o in outputs))   # ~4 characters a token
    return outputs


def continuation_logprobs(model: str | dict, context: Prompt, continuations: Sequence[str],
                          reply_so_far: str = "") -> list[float]:
    """log P(each continuation | prompt, then the reply so far) under a local model: lets a caller
    have the model itself choose among a closed set of answers (constrained decoding, e.g. the
    verdict slot of a judge's reply). A chat prompt gets the model's template, as in generate."""
    spec = _route(resolve(model))
    if spec["kind"] == "openai":
        raise ModelError(f"{spec['name']} is an endpoint; scoring continuations needs a local model")
    return _loaded(spec).continuation_logprobs(context, list(continuations), reply_so_far)


def _vllm_available() -> bool:
    from pipeline.models.backends import vllm_backend

    return vllm_backend.available()


def _route(spec: dict, engine: str = "auto", *, batch: bool = False) -> dict:
    from pipeline.models.engines import route

    return route(spec, engine, batch=batch)


def engine_of(model: str | dict, engine: str = "auto", *, batch: bool = True) -> dict:
    """{"engine", "quant"} that `generate` (batch) or `stream_chat` would use; loads nothing."""
    from pipeline.models.engines import describe

    return describe(resolve(model), engine, batch=batch)


def stream_chat(model: str | dict, messages: list[dict], params: GenParams | None = None,
                *, api_key: str | None = None) -> Iterator[str]:
    """Yield the reply as it grows (each item is the text so far)."""
    params = params or GenParams()
    spec = _route(resolve(model), params.engine)
    if spec["kind"] == "openai":
        from pipeline.models.backends import openai_compat

        yield from openai_compat.stream_chat(spec, messages, params, api_key=api_key)
        return
    yield from _loaded(spec).stream(messages, params)


# -- the shared cache of loaded local models ------------------------------------------------
_cache: "OrderedDict[tuple, Any]" = OrderedDict()
_cache_lock = threading.Lock()
_loading: dict[tuple, threading.Lock] = {}


def _key(spec: dict) -> tuple:
    return (spec["kind"], spec.get("path"), spec.get("base"), spec.get("engine") or "transformers")


def _loaded(spec: dict):
    """Load once, reuse everywhere; two threads asking for the same model wait for one load."""
    from pipeline import hosted

    hosted.check_model_paths(spec)  # hosted: no server folders outside $STUDIO_HOME
    key = _key(spec)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        lock = _loading.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        from pipeline.models.engines import backend_class

        loaded = backend_class(spec).load(spec)
        with _cache_lock:
            _cache[key] = loaded
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        return loaded


def load(model: str | dict):
    """The loaded local model (its `tokenizer`) that chat would use, from the shared cache."""
    return _loaded(_route(resolve(model)))


def loaded_models() -> list[str]:
    with _cache_lock:
        return [f"{k[1]}" + (f" (+{k[2]})" if k[2] else "") for k in _cache]


def busy(model: str | dict) -> bool:
    """True while a loaded local model is generating for someone else (callers show "waiting")."""
    with _cache_lock:
        loaded = _cache.get(_key(_route(resolve(model))))
    return loaded is not None and loaded.lock.locked()


def is_loaded(model: str | dict) -> bool:
    with _cache_lock:
        return _key(_route(resolve(model))) in _cache


def unload(model: str | dict | None = None) -> int:
    """Drop one model (or all) from the cache; returns how many were dropped."""
    with _cache_lock:
        if model is None:
            n = len(_cache)
            _cache.clear()
        else:
            spec = resolve(model)
            keys = [k for k in _cache if k[:3] == _key(spec)[:3] or k[1] in _gguf_paths(spec)]
            n = sum(_cache.pop(k, None) is not None for k in keys)
    import gc

    gc.collect()
    return n


def _gguf_paths(spec: dict) -> set:
    from pipeline.models.engines import gguf_exports

    return set(gguf_exports(spec).values())


def describe_device() -> dict:
    """What local generation will run on: shown in Settings, used to pick dtype/attention."""
    import importlib.util

    info = {"cuda": False, "gpu": None, "flash_attn": importlib.util.find_spec("flash_attn") is not None,
            "bitsandbytes": importlib.util.find_spec("bitsandbytes") is not None}
    try:
        import torch

        if torch.cuda.is_available():
            info.update(cuda=True, gpu=torch.cuda.get_device_name(0),
                        bf16=torch.cuda.is_bf16_supported())
    except ImportError:
        pass
    return info


def is_adapter_dir(path: str | None) -> bool:
    return bool(path) and (Path(path) / "adapter_config.json").is_file()


def cut_at_stop(text: str, stop: list[str] | None) -> str:
    """Truncate at the earliest stop string (generation may run a few tokens past it)."""
    cut = len(text)
    for s in stop or ():
        i = text.find(s) if s else -1
        if i != -1:
            cut = min(cut, i)
    return text[:cut]
