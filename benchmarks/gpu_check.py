"""GPU check: each GPU path of the studio for a few steps, for the day a GPU is attached.

    python benchmarks/gpu_check.py [--steps 5] [--only NAME ...]      (or: make gpu-check)

Runs, each in its own child process through the studio's own commands, on the embedded
SmolLM2-135M-Instruct and a small frozen dataset made here, in a throwaway STUDIO_HOME:

    bf16-flash-packing  full fine-tune, bf16, flash-attention 2, padding-free packing
    qlora               QLoRA: 4-bit base through bitsandbytes + LoRA adapter
    zero2 / zero3       DeepSpeed ZeRO-2 and ZeRO-3 on one GPU
    fsdp                FSDP full-shard on one GPU
    vllm                batch generation through vLLM (engine vllm)
    llama.cpp-offload   generation through llama.cpp with every layer offloaded to the GPU

and prints a table: what ran, how long it took, tokens/s where it generates, and what failed with
its message. Without a CUDA GPU it prints what it would run and exits 0. The table, with the card
and the date, goes into docs/scale-up.md whenever a GPU is at hand. The summary line counts the
paths: `gpu paths N/M ok`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TRAIN = ["-m", "pipeline", "train", "start", "--dataset", "gpucheck", "--base-model", "SmolLM2-135M-Instruct",
         "--device", "cuda", "--gpus", "0", "--batch-size", "4", "--max-length", "512", "--logging-steps", "1",
         "--save-steps", "1000", "--template", "chat", "--wait"]
GENERATE = r"""
import json, sys, time
from pipeline.models import GenParams, generate, engine_of
engine = sys.argv[1]
prompts = [[{"role": "user", "content": f"Write a Python function number {i} that adds two numbers."}]
           for i in range(32)]
generate("SmolLM2-135M-Instruct", prompts[:1], GenParams(max_new_tokens=4, engine=engine))
start = time.perf_counter()
out = generate("SmolLM2-135M-Instruct", prompts, GenParams(max_new_tokens=128, engine=engine, batch_size=32))
wall = time.perf_counter() - start
if engine == "llama.cpp":
    import llama_cpp
    assert llama_cpp.llama_supports_gpu_offload(), "this llama-cpp-python was built without GPU offload"
print(json.dumps({"wall": wall, "chars": sum(map(len, out)), **engine_of("SmolLM2-135M-Instruct", engine)}))
"""


def checks(steps: int) -> list[tuple[str, str, list[str]]]:
    """(name, what it exercises, argv after the python executable)."""
    train = TRAIN + ["--max-steps", str(steps)]
    return [
        ("bf16-flash-packing", "full fine-tune, bf16, flash-attention 2, packing",
         train + ["--method", "full", "--precision", "bf16", "--attention", "flash_attention_2", "--packing",
                  "--run-name", "gpu-bf16"]),
        ("qlora", "QLoRA: 4-bit base (bitsandbytes) + LoRA", train + ["--method", "qlora", "--run-name", "gpu-qlora"]),
        ("zero2", "DeepSpeed ZeRO-2, one GPU", train + ["--method", "lora", "--distributed", "zero2",
                                                        "--run-name", "gpu-zero2"]),
        ("zero3", "DeepSpeed ZeRO-3, one GPU", train + ["--method", "full", "--distributed", "zero3",
                                                        "--run-name", "gpu-zero3"]),
        ("fsdp", "FSDP full-shard, one GPU", train + ["--method", "full", "--distributed", "fsdp_full",
                                                      "--run-name", "gpu-fsdp"]),
        ("vllm", "batch generation through vLLM", ["-c", GENERATE, "vllm"]),
        ("llama.cpp-offload", "llama.cpp, all layers on the GPU", ["-c", GENERATE, "llama.cpp"]),
    ]


def gpu_name() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def prepare(home: Path) -> None:
    """The embedded model (with its q8_0 GGUF) and a small frozen dataset, in a fresh store."""
    os.environ["STUDIO_HOME"] = str(home)
    from pipeline.models.default_model import prepare_default_model
    from pipeline.store import open_store

    store = open_store()
    prepare_default_model(store)
    rows = [{"instruction": f"Write a function that returns {i} plus x.", "input": "",
             "output": f"def f{i}(x):\n    return x + {i}\n", "language": "python", "status": "approved",
             "import_ref": f"gpu:{i}"} for i in range(64)]
    store.insert_imported_pairs(rows)
    store.create_dataset("gpucheck", store.pair_ids()[-len(rows):], {"gpu_check": True}, "chat")
    store.close()


def run_one(name: str, argv: list[str], env: dict, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "wall": time.perf_counter() - start, "note": f"timed out after {timeout:.0f}s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr + proc.stdout).strip().splitlines() if line.strip()]
        return {"ok": False, "wall": wall, "note": (lines[-1] if lines else f"exit {proc.returncode}")[:160]}
    note = ""
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if last.startswith("{"):
        info = json.loads(last)
        note = f"{info['engine']}/{info['quant']}, ~{info['chars'] / 4 / info['wall']:.0f} tokens/s"
    return {"ok": True, "wall": wall, "note": note or last[:160]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="training steps per path")
    parser.add_argument("--only", nargs="*", help="run only these paths (names as in the table)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per path before it counts as failed")
    args = parser.parse_args(argv)
    plan = [c for c in checks(args.steps) if not args.only or c[0] in args.only]
    card = gpu_name()
    if card is None:
        print("No CUDA GPU here: nothing run. On a GPU machine this runs, each for a few steps:\n")
        print(f"{'path':<20} {'what':<48} command")
        for name, what, cmd in plan:
            shown = " ".join(a if a != GENERATE else "<generate script>" for a in cmd)
            print(f"{name:<20} {what:<48} python {shown}")
        print(f"\ngpu paths 0/{len(plan)} run (no GPU)")
        return 0
    print(f"{card}, {time.strftime('%Y-%m-%d')}\n")
    with tempfile.TemporaryDirectory() as tmp:
        prepare(Path(tmp))
        env = dict(os.environ, STUDIO_HOME=tmp, PYTHONPATH=str(ROOT))
        results = []
        print("| path | what | result | seconds | note |\n|---|---|---|---|---|")
        for name, what, cmd in plan:
            r = run_one(name, cmd, env, args.timeout)
            results.append(r)
            print(f"| {name} | {what} | {'ok' if r['ok'] else 'FAILED'} | {r['wall']:.0f} | {r['note']} |", flush=True)
    print(f"\ngpu paths {sum(r['ok'] for r in results)}/{len(results)} ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
