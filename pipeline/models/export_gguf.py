"""Export any checkpoint to GGUF for llama.cpp, Ollama and LM Studio: f16, q8_0, q4_k_m.

    submit_export(store, ExportConfig(model="gd-lora-step120", quantizations="f16,q8_0,q4_k_m"))
    python -m pipeline models export-gguf gd-lora-step120 --quantizations q8_0,q4_k_m --wait

Nothing here is a hand-written converter: the weights go through llama.cpp's own
`convert_hf_to_gguf.py` (shipped in the llama-cpp-python source package; `make setup` extracts it
with its gguf-py under $VENV/share/llama.cpp) to f16, then through llama.cpp's quantizer
(`llama_model_quantize` in the bindings) to each smaller type. A LoRA run is merged into its base
first (the same cached merge generation uses). Each file is registered as a `gguf` model whose meta
names the checkpoint, run and quantization (lineage: run → checkpoint → GGUF), the checkpoint's own
meta lists its GGUF files (so `auto` evals run them on llama.cpp), and an Ollama `Modelfile` with
the model's chat template (see ollama) is written beside them:

    ollama create my-model -f studio_data/models/gguf/NAME/Modelfile
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import JobConfig
from pipeline.errors import ConfigError
from pipeline.models import ModelError, is_adapter_dir

QUANTS = ("f16", "q8_0", "q4_k_m")
# `auto` evals export a model to q8_0 first when it is at least this big: below it generation is
# already quick and the conversion (a few seconds) would cost more than it saves.
AUTO_MIN_BYTES = int(os.environ.get("STUDIO_AUTO_GGUF_MIN_MB", "50")) * 2 ** 20
FTYPES = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


@dataclass
class ExportConfig(JobConfig):
    model: str = field(default="", metadata={"help": "registered model to export: a checkpoint (full or LoRA) "
                                                     "or any local model folder"})
    quantizations: str = field(default="q8_0,q4_k_m", metadata={
        "help": "comma-separated: f16 (full quality, half the size of fp32), q8_0 (near-lossless), "
                "q4_k_m (the size people run in Ollama)"})
    name: str = field(default="", metadata={"help": "base name of the exported models and their folder "
                                                    "(default: the model's name)"})

    def quants(self) -> list[str]:
        return [q.strip().lower() for q in self.quantizations.split(",") if q.strip()]

    def check(self) -> None:
        if not self.model:
            raise ConfigError("choose a model to export (--model)")
        wrong = [q for q in self.quants() if q not in QUANTS]
        if wrong or not self.quants():
            raise ConfigError(f"quantizations must be some of {', '.join(QUANTS)} (got {self.quantizations!r})")


def converter_dir() -> Path:
    return Path(os.environ.get("STUDIO_LLAMA_CONVERTER") or Path(sys.prefix) / "share" / "llama.cpp")


def check_tools() -> None:
    from pipeline.models.backends import llamacpp

    if not (converter_dir() / "convert_hf_to_gguf.py").is_file():
        raise ModelError(f"llama.cpp's converter is not at {converter_dir()}; `make setup` extracts it "
                         "from the llama-cpp-python source package")
    if not llamacpp.available():
        raise ModelError("llama-cpp-python is not installed; `make setup` builds it")


def submit_export(store, config: ExportConfig) -> int:
    from pipeline import jobs

    config.validate()
    model = store.get_model(config.model)
    if model["kind"] not in ("local",):
        raise ConfigError(f"{config.model} is a {model['kind']} model; export works on local folders "
                          "and checkpoints")
    check_tools()
    return jobs.submit(store, "export_gguf", config.to_dict(), title=f"export {config.model} to GGUF")


def export_dir(name: str) -> Path:
    from pipeline.paths import check_name, models_dir

    return models_dir() / "gguf" / check_name(name, "export")


def convert_to_f16(folder: Path, out: Path, log=print) -> Path:
    """llama.cpp's converter, in a child process with its own gguf-py first on the path."""
    tools = converter_dir()
    tmp = out.with_name(out.name + ".partial")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tools / "gguf-py"), str(tools),
                                                                   os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, str(tools / "convert_hf_to_gguf.py"), str(folder), "--outfile", str(tmp),
           "--outtype", "f16"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in (proc.stdout + proc.stderr).splitlines()[-15:]:
        log(f"convert: {line}")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"llama.cpp's converter failed on {folder}: {tail[0][:300]}")
    tmp.replace(out)
    return out


def quantize(src: Path, out: Path, quant: str) -> Path:
    """llama.cpp's quantizer (llama_model_quantize) from the f16 GGUF."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[quant])
    params.nthread = max(1, os.cpu_count() or 1)
    tmp = out.with_name(out.name + ".partial")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc})")
    tmp.replace(out)
    return out


def source_folder(model: dict) -> Path:
    """The plain model folder to convert: the checkpoint itself, or its adapter merged into its base."""
    path = Path(model["path"] or "")
    if is_adapter_dir(str(path)):
        from pipeline.models.backends.hf import _adapter_base
        from pipeline.models.merged import merged_folder

        return merged_folder(path, model["base"] or _adapter_base(str(path)))
    if not (path / "config.json").is_file():
        raise ModelError(f"{model['name']} at {path} is not a model folder (no config.json)")
    return path


def export_gguf(store, config: ExportConfig, progress=lambda done, total, msg: None, log=print) -> dict:
    from pipeline.models.ollama import write_modelfiles

    config.validate()
    check_tools()
    model = store.get_model(config.model)
    name = config.name or model["name"]
    out_dir = export_dir(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    quants = config.quants()
    total = 3 + len(quants)
    progress(0, total, "merging the adapter" if is_adapter_dir(model["path"]) else "reading the checkpoint")
    folder = source_folder(model)
    f16 = out_dir / f"{name}-f16.gguf"
    progress(1, total, "converting to f16 with llama.cpp's converter")
    missing = [q for q in quants if not (out_dir / f"{name}-{q}.gguf").is_file()]
    if missing and not f16.is_file():  # a resumed job keeps what it finished
        convert_to_f16(folder, f16, log)
    files = {}
    for i, quant in enumerate(quants):
        progress(2 + i, total, f"quantizing to {quant}")
        target = out_dir / f"{name}-{quant}.gguf"
        if quant != "f16" and not target.is_file():
            quantize(f16, target, quant)
        files[quant] = target
    progress(2 + len(quants), total, "writing the Ollama Modelfile")
    modelfiles = write_modelfiles(out_dir, files, folder)
    if "f16" not in quants:
        f16.unlink(missing_ok=True)  # only the intermediate: not asked for
    registered = []
    run_id = model.get("run_id")
    for quant, path in files.items():
        meta = {"exported_from": model["name"], "quant": quant, "method": "gguf", "run_id": run_id,
                "modelfile": str(modelfiles[quant]), "size_bytes": path.stat().st_size,
                "step": (model["meta"] or {}).get("step"), "base_model": (model["meta"] or {}).get("base_model")}
        row = store.register_model(f"{name}-{quant}", "gguf", str(path), template=model["template"] or "chat",
                                   run_id=run_id, meta=meta, replace=True)
        registered.append(row["name"])
    gguf = dict((model["meta"] or {}).get("gguf") or {}, **{q: str(p) for q, p in files.items()})
    store.update_model_meta(model["name"], gguf=gguf)
    progress(total, total, f"exported {', '.join(registered)}")
    log(f"wrote {', '.join(str(p) for p in files.values())} and {out_dir / 'Modelfile'}")
    return {"models": registered, "files": {q: str(p) for q, p in files.items()},
            "modelfile": str(out_dir / "Modelfile"), "folder": str(out_dir)}


def export_gguf_job(ctx) -> dict:
    config = ExportConfig.from_dict(ctx.params)

    def progress(done, total, message):
        ctx.log(message)
        ctx.progress(done, total, message, force=True)

    return export_gguf(ctx.store, config, progress, ctx.log)


def _weights_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors")) + \
        sum(f.stat().st_size for f in folder.glob("pytorch_model*.bin"))


def ensure_gguf(store, name: str, engine: str = "auto", log=print) -> str | None:
    """Before an `auto` eval on a CPU: give a local model (a LoRA checkpoint merged) a q8_0 GGUF once,
    so llama.cpp generates its answers, as it does the embedded base's. Returns the GGUF's path, or
    None where it stays on another engine (told, vLLM here, tools missing, too small, not convertible)."""
    from pipeline.errors import StudioError
    from pipeline.models.backends import vllm_backend
    from pipeline.models.engines import gguf_exports

    if (engine or "auto") != "auto" or vllm_backend.available():
        return None
    try:
        model = store.get_model(name)
    except StudioError:
        return None
    if model["kind"] != "local" or gguf_exports(model):
        return None
    try:
        check_tools()
    except ModelError:
        return None
    path = Path(model["path"] or "")
    if is_adapter_dir(str(path)):
        from pipeline.models.backends.hf import _adapter_base

        base = model["base"] or _adapter_base(str(path))
        size = _weights_bytes(Path(base)) if Path(base).is_dir() else 0
    else:
        size = _weights_bytes(path)
    if size < AUTO_MIN_BYTES:
        return None
    log(f"exporting {name} to a q8_0 GGUF once, so llama.cpp generates its answers")
    try:
        return export_gguf(store, ExportConfig(model=name, quantizations="q8_0"), log=log)["files"]["q8_0"]
    except StudioError as exc:
        log(f"{name} stays on transformers: {exc}")
        return None
