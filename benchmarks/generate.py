"""Generation engines on the embedded SmolLM2-135M-Instruct: transformers (fp32, batched, as evals ran
before) vs llama.cpp at f16 and q8_0, in one run, on the same HumanEval prompts (chat format, as the
road's evals send them), greedy, up to 256 new tokens.

    python benchmarks/generate.py [--tasks 32] [--tokens 256] [--batch 16]

The GGUF files are made first with the studio's own export (llama.cpp's converter and quantizer)
from the folder transformers loads, so every engine runs the same weights. Prints, per engine:
wall time, generated tokens/s (every engine's output counted with the same tokenizer), how many
greedy answers are identical to transformers' and pass@1 (the sandbox runs the tests), and ends
with `ratio N.Nx`: transformers' wall time over llama.cpp q8_0's (target >= 3x).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("STUDIO_NO_DEFAULT_MODEL", "1")


def prepare(home: Path) -> dict:
    """The default model's folder and its f16 / q8_0 GGUF exports, registered in a fresh store."""
    os.environ["STUDIO_HOME"] = str(home)
    from pipeline.models.default_model import DEFAULT_NAME, bundled_gguf, convert_gguf
    from pipeline.models.export_gguf import ExportConfig, export_gguf
    from pipeline.paths import models_dir
    from pipeline.store import open_store

    store = open_store()
    folder = convert_gguf(bundled_gguf(), models_dir() / DEFAULT_NAME)
    store.register_model("smol", "local", str(folder), template="chat")
    files = export_gguf(store, ExportConfig(model="smol", quantizations="f16,q8_0"), log=lambda m: None)["files"]
    return {"store": store, "folder": folder, "files": files}


def run_engine(label: str, spec: dict, prompts: list, tokens: int, batch: int, engine: str) -> dict:
    from pipeline import models
    from pipeline.models import GenParams, generate

    models.unload()
    params = GenParams(max_new_tokens=tokens, temperature=0.0, batch_size=batch, engine=engine)
    generate(spec, prompts[:1], GenParams(max_new_tokens=4, engine=engine))  # load untimed
    start = time.perf_counter()
    raws = generate(spec, prompts, params)
    wall = time.perf_counter() - start
    return {"label": label, "wall": wall, "raws": raws, **models.engine_of(spec, engine)}


def score(tasks: list[dict], raws: list[str]) -> float:
    from evals.passk.execute import ExecutionPool, execute_samples
    from evals.passk.languages import normalize_language
    from evals.passk.postprocess import completion_from_chat
    from evals.passk.prompting import program_prefix
    from evals.sandbox import SandboxLimits

    samples = []
    for task, raw in zip(tasks, raws):
        completion, mode = completion_from_chat(raw, normalize_language(task.get("language")),
                                                program_prefix(task, "synthesize"), task.get("entry_point"))
        samples.append({"task_id": task["task_id"], "sample_idx": 0, "completion": completion, "mode": mode})
    with ExecutionPool(limits=SandboxLimits(timeout_s=5.0, allow_weak=True)) as pool:
        verdicts = execute_samples({t["task_id"]: t for t in tasks}, samples, pool=pool)
    return sum(bool(v["passed"]) for v in verdicts) / len(verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=32, help="HumanEval tasks (the first N)")
    parser.add_argument("--tokens", type=int, default=256, help="most new tokens per answer")
    parser.add_argument("--batch", type=int, default=16, help="transformers' batch size (the eval default)")
    args = parser.parse_args(argv)

    from pipeline.models.backends import llamacpp

    if not llamacpp.available():
        print("llama-cpp-python is not installed (`make setup` builds it)")
        return 1
    from transformers import AutoTokenizer

    from evals.passk.prompting import build_prompt
    from evals.passk.suites import import_humaneval, load_tasks

    with tempfile.TemporaryDirectory() as tmp:
        ready = prepare(Path(tmp))
        store = ready["store"]
        import_humaneval(store)
        tasks = list(load_tasks(store, "humaneval").values())[:args.tasks]
        prompts = [build_prompt(t, "chat", "synthesize") for t in tasks]
        tok = AutoTokenizer.from_pretrained(str(ready["folder"]))
        base = {"name": "smol", "kind": "local", "path": str(ready["folder"]), "template": "chat"}
        runs = [run_engine("transformers", base, prompts, args.tokens, args.batch, "transformers")]
        for quant in ("f16", "q8_0"):
            spec = {"name": f"smol-{quant}", "kind": "gguf", "path": ready["files"][quant], "template": "chat"}
            runs.append(run_engine(f"llama.cpp {quant}", spec, prompts, args.tokens, args.batch, "llama.cpp"))
        reference = runs[0]["raws"]
        print(f"{len(tasks)} HumanEval tasks, greedy, up to {args.tokens} new tokens, {os.cpu_count()} cores\n")
        print(f"{'engine':<16} {'quant':<6} {'wall s':>8} {'tokens':>7} {'tokens/s':>9} {'same as tf':>10} "
              f"{'pass@1':>7} {'speed-up':>9}")
        for r in runs:
            n_tokens = sum(len(tok(x, add_special_tokens=False)["input_ids"]) for x in r["raws"])
            same = sum(a == b for a, b in zip(r["raws"], reference))
            print(f"{r['label']:<16} {r['quant']:<6} {r['wall']:>8.1f} {n_tokens:>7} {n_tokens / r['wall']:>9.1f} "
                  f"{same:>7}/{len(tasks):<2} {score(tasks, r['raws']):>7.3f} {runs[0]['wall'] / r['wall']:>8.1f}x")
        store.close()
    ratio = runs[0]["wall"] / runs[2]["wall"]
    print(f"\nratio {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
