"""A LoRA checkpoint's weights folded into its base once, cached on disk, for generation.

peft applies an unmerged adapter as two extra small matmuls per adapted layer on every token;
on a CPU that made a tuned checkpoint's eval ~12x slower than its base's. Generation never needs
the adapter separate, so the backends load `merged_folder(adapter, base)` instead: the first load
merges and saves a plain model folder under $STUDIO_HOME/models/.merged/, every later load (other
processes and eval jobs included) reads it like any model. The key covers the adapter's path, its
weights' size and mtime and the base, so retraining into the same folder merges afresh.

Training, resuming and pushing keep using the adapter folder itself; GGUF export merges the same way.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from pipeline.paths import models_dir

MARKER = "merged_from.json"


def _fingerprint(adapter: Path, base: str) -> str:
    parts = [str(adapter.resolve()), base]
    for name in ("adapter_model.safetensors", "adapter_model.bin", "adapter_config.json"):
        f = adapter / name
        if f.is_file():
            st = f.stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    return models_dir() / ".merged"


def merged_path(adapter: str | Path, base: str) -> Path:
    adapter = Path(adapter)
    return cache_dir() / f"{adapter.name[:60]}-{_fingerprint(adapter, base)}"


def is_merged(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def merged_folder(adapter: str | Path, base: str, *, tokenizer_source: str | None = None) -> Path:
    """The plain model folder of `base` + `adapter`, merging and saving it on first use."""
    out = merged_path(adapter, base)
    if is_merged(out):
        return out
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = Path(adapter)
    # The checkpoint's own dtype: a bf16 base stays bf16 on disk (the loader casts per device).
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    if merged.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        merged = merged.float()
    tok_source = tokenizer_source or (str(adapter) if (adapter / "tokenizer_config.json").exists() else base)
    # Written beside the target and renamed: a killed merge never leaves a half folder that a later
    # load would trust; two processes merging at once each finish their own copy, the first wins.
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(tok_source).save_pretrained(tmp)
    (tmp / MARKER).write_text(json.dumps({"adapter": str(adapter.resolve()), "base": base}, indent=2))
    try:
        tmp.rename(out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_merged(out):
            raise
    return out
