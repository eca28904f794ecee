"""A tuned LoRA checkpoint's eval generation vs its base's, same HumanEval prompts, same engine
(transformers, batched as evals run), in one run: the base; the checkpoint as the studio loads it
now (adapter merged into the base once, cached); and the checkpoint through peft's unmerged
layers, as before (the baseline that made a tuned eval ~12x slower).

    python benchmarks/tuned_eval.py [--tasks 10] [--tokens 192] [--batch 16] [--repeats 2]

The adapter is a rank-16 LoRA on every linear layer (the studio's default) with small random
weights, so the answers stay close to the base's and the three runs generate about as many tokens.
Ends with `ratio N.Nx`: the tuned checkpoint's wall time over the base's (target <= 1.2x).
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


def make_adapter(base: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.002)
    model.save_pretrained(out)
    return out


def unmerged_generate(base: Path, adapter: Path, prompts, params):
    """The old path: peft's LoRA layers on every forward pass (generation as the backend does it)."""
    from peft import PeftModel

    from pipeline.models.backends.hf import LocalModel

    loaded = LocalModel.load({"name": "base", "kind": "local", "path": str(base)})
    loaded.model = PeftModel.from_pretrained(loaded.model, str(adapter)).eval()
    loaded.generate(prompts[:1], type(params)(max_new_tokens=4))
    start = time.perf_counter()
    out = loaded.generate(prompts, params)
    return time.perf_counter() - start, out


def timed(spec: dict, prompts, params):
    from pipeline import models
    from pipeline.models import GenParams, generate

    models.unload()
    generate(spec, prompts[:1], GenParams(max_new_tokens=4, engine="transformers"))  # load (and merge) untimed
    start = time.perf_counter()
    out = generate(spec, prompts, params)
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10, help="HumanEval tasks (the first N)")
    parser.add_argument("--tokens", type=int, default=192, help="most new tokens per answer (the road's eval)")
    parser.add_argument("--batch", type=int, default=16, help="prompts per batch (the eval default)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each (interleaved; the best counts)")
    args = parser.parse_args(argv)
    from transformers import AutoTokenizer

    from evals.passk.prompting import build_prompt
    from evals.passk.suites import humaneval_tasks
    from pipeline.models import GenParams
    from pipeline.models.default_model import bundled_gguf, convert_gguf

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_HOME"] = tmp
        base = convert_gguf(bundled_gguf(), Path(tmp) / "models" / "base")
        adapter = make_adapter(base, Path(tmp) / "adapter")
        tok = AutoTokenizer.from_pretrained(base)
        prompts = [build_prompt(t, "chat", "synthesize") for t in humaneval_tasks()[:args.tasks]]
        params = GenParams(max_new_tokens=args.tokens, temperature=0.0, batch_size=args.batch, engine="transformers")
        runs = {"base": lambda: timed({"name": "base", "kind": "local", "path": str(base)}, prompts, params),
                "tuned (merged)": lambda: timed({"name": "tuned", "kind": "local", "path": str(adapter),
                                                 "base": str(base)}, prompts, params),
                "tuned (unmerged)": lambda: unmerged_generate(base, adapter, prompts, params)}
        best: dict = {}
        for _ in range(args.repeats):  # interleaved, best of each: a machine whose load drifts favours none
            for label, run in runs.items():
                wall, outs = run()
                if label not in best or wall < best[label][0]:
                    best[label] = (wall, outs)
        rows = [(label, *best[label]) for label in runs]
        print(f"{args.tasks} HumanEval tasks, greedy, up to {args.tokens} new tokens, transformers, "
              f"{os.cpu_count()} cores\n")
        print(f"{'model':<18} {'wall s':>8} {'tokens':>7} {'tokens/s':>9} {'vs base':>8}")
        for label, wall, outs in rows:
            n = sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in outs)
            print(f"{label:<18} {wall:>8.1f} {n:>7} {n / wall:>9.1f} {wall / rows[0][1]:>7.2f}x")
    print(f"\nratio {rows[1][1] / rows[0][1]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
