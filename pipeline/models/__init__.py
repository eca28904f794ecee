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

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import StudioError

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
             *, api_key: str | None = None, on_tokens: Callable[..., None] | None = None) -> list[str]:
    """One completion per prompt, in order. Repeat a prompt n times for n samples.

    `on_tokens(n, finished=k)` is called as tokens are generated (n new ones since the last call;
    k prompts of the current batch answered so far, where the backend can tell), so a long batch
    shows live progress; backends that only answer whole (endpoints, vLLM) call it once."""
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
        on_tokens(sum(max(1, len(o) // 4) for o in outputs), finished=len(outputs))   # ~4 characters a token
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


def stream_chat(model: str | dict, messages: Prompt, params: GenParams | None = None,
                *, api_key: str | None = None) -> Generator[str, None, None]:
    """Yield the reply as it grows (each item is the text so far; a local model first yields "" when
    it is answering another session and this one waits its turn). `messages` may be a prompt
    already rendered with a local model's template (pipeline.chat.prompting); an endpoint chats
    in messages."""
    params = params or GenParams()
    spec = _route(resolve(model), params.engine)
    if spec["kind"] == "openai":
        from pipeline.models.backends import openai_compat

        if isinstance(messages, str):
            raise ModelError(f"{spec.get('name') or 'an endpoint model'} chats in messages, not a rendered prompt")
        yield from openai_compat.stream_chat(spec, messages, params, api_key=api_key)
        return
    yield from _loaded(spec).stream(messages, params)


# -- the shared cache of loaded local models ------------------------------------------------
_cache: OrderedDict[tuple, Any] = OrderedDict()
_cache_lock = threading.Lock()
# Loading is process-global work: transformers' lazy imports, and from_pretrained's meta-device
# set-up (which patches torch.nn.Module for the duration) are not thread-safe. Two models loaded at
# once from two browser sessions half-loaded each other ("Cannot copy out of meta tensor", "cannot
# import name 'AutoModelForCausalLM'") and left torch patched for every later load. So every
# in-process load (the cache, merges) holds this lock; a model already cached is served without it.
LOAD_LOCK = threading.RLock()


def _key(spec: dict) -> tuple:
    return (spec["kind"], spec.get("path"), spec.get("base"), spec.get("engine") or "transformers")


HUB_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")


def is_hub_id(value: str) -> bool:
    """`owner/name` (or a bare `name`) that is not also a folder here: transformers would load a
    folder of that name from the working directory instead of the hub."""
    value = str(value or "")
    return bool(HUB_ID_RE.fullmatch(value)) and ".." not in value and not Path(value).expanduser().exists()


def checked_spec(spec: dict, *, naming: bool = True) -> dict:
    """The one validator for a model's files, every kind: a folder or file (local, gguf, an hf
    `path` or `base` that is not a hub id) goes through pipeline.paths.server_path, so the gate
    decides who may read it; a name must be a safe name. Returns the spec with resolved paths."""
    from pipeline.paths import check_name, server_path

    spec = dict(spec)
    if naming:   # a registered name later becomes files (merge, exports)
        check_name(str(spec.get("name") or ""), "model")
    kind = spec.get("kind")
    for field_ in ("path", "base"):
        value = spec.get(field_)
        if not value or (kind == "openai" and field_ == "path"):
            continue   # an endpoint's path is the model id it serves
        if kind == "hf" or field_ == "base":
            if is_hub_id(value):
                continue
        spec[field_] = str(server_path(value, f"model {spec.get('name')!r} {field_}"))
    return spec


def register(store, name: str, kind: str, path: str | None = None, *, base: str | None = None,
             endpoint: str | None = None, api_key_env: str | None = None, template: str = "chat",
             replace: bool = False) -> dict:
    """Register a model (UI and CLI): paths through the validator, the key's name bound to the
    endpoint's host, the write asked of the gate."""
    from pipeline import access

    spec = checked_spec({"name": (name or "").strip(), "kind": kind, "path": (path or "").strip() or None,
                         "base": (base or "").strip() or None})
    if api_key_env:
        from pipeline.models.backends.openai_compat import secret_target

        access.require(access.Cap.USE_SECRET, secret_target(api_key_env, endpoint))
    access.require(access.Cap.WRITE_DATA, access.Target(what=f"register model {spec['name']}"))
    return store.register_model(spec["name"], kind, spec["path"], base=spec["base"], endpoint=endpoint,
                                api_key_env=api_key_env, template=template, replace=replace,
                                meta={"registered_by": str(access.current())})


def _cached(key: tuple):
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    return None


def _loaded(spec: dict):
    """Load once, reuse everywhere; any number of threads asking at once get one load each."""
    from pipeline import access

    checked_spec(spec, naming=False)   # a row written before the validator (or by hand) is checked again here
    access.require(access.Cap.SPEND_COMPUTE, access.Target(what=f"load {spec.get('name')}"))
    access.reached(access.Cap.SPEND_COMPUTE)
    key = _key(spec)
    hit = _cached(key)
    if hit is not None:
        return hit
    with LOAD_LOCK:
        hit = _cached(key)  # loaded by the thread we waited for
        if hit is not None:
            return hit
        from pipeline.models.engines import backend_class

        with torch_globals_restored():
            loaded = backend_class(spec).load(spec)
        with _cache_lock:
            _cache[key] = loaded
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        return loaded


class torch_globals_restored:
    """Put back what a load may change process-wide (default dtype and device, nn.Module's
    parameter and buffer registration) if the load died halfway, so one failed load cannot break
    every later one."""

    def __enter__(self):
        import torch

        self.torch = torch
        self.saved = (torch.get_default_dtype(), torch.get_default_device(),
                      torch.nn.Module.register_parameter, torch.nn.Module.register_buffer)
        return self

    def __exit__(self, *exc) -> None:
        torch = self.torch
        dtype, device, register_parameter, register_buffer = self.saved
        if torch.get_default_dtype() != dtype:
            torch.set_default_dtype(dtype)
        if torch.get_default_device() != device:
            torch.set_default_device(device)
        torch.nn.Module.register_parameter = register_parameter
        torch.nn.Module.register_buffer = register_buffer


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

    info: dict[str, Any] = {"cuda": False, "gpu": None, "flash_attn": importlib.util.find_spec("flash_attn") is not None,
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
    return bool(path) and (Path(str(path)) / "adapter_config.json").is_file()


def cut_at_stop(text: str, stop: list[str] | None) -> str:
    """Truncate at the earliest stop string (generation may run a few tokens past it)."""
    cut = len(text)
    for s in stop or ():
        i = text.find(s) if s else -1
        if i != -1:
            cut = min(cut, i)
    return text[:cut]
