"""Chat overhead: the embedded default (SmolLM2-135M-Instruct) answering through the whole chat
stack (store, conversation, prompt preparation with token counting, column thread, models cache,
streamer, snapshots) vs a bare `model.generate` with a TextIteratorStreamer, in the same run, on the
same prompt, greedy, so both produce the same tokens.

    python benchmarks/chat.py [--tokens 128] [--repeats 3]

Prints time to first token and tokens/s for each and ends with `overhead N%` (target <= 10 %):
how much longer a whole answer takes through the stack, medians of the repeats.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROMPT = "Write a Python function that returns the n-th Fibonacci number, with a docstring."


def bare_run(model, tokenizer, n_tokens: int) -> tuple[float, float, str]:
    """(time to first token, total seconds, text) with nothing but transformers."""
    import torch
    from transformers import TextIteratorStreamer

    began = time.perf_counter()
    text = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                         add_generation_prompt=True)
    enc = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

    def work():
        with torch.inference_mode():
            model.generate(**enc, streamer=streamer, max_new_tokens=n_tokens, do_sample=False,
                           temperature=None, top_p=None, top_k=None, pad_token_id=tokenizer.pad_token_id)

    thread = threading.Thread(target=work)
    thread.start()
    first, out = None, ""
    for piece in streamer:
        if piece and first is None:
            first = time.perf_counter() - began
        out += piece
    thread.join()
    return first, time.perf_counter() - began, out


def stack_run(store, name: str, n_tokens: int) -> tuple[float, float, str]:
    from pipeline.chat import ChatSettings, Column, new_chat, send

    began = time.perf_counter()
    chat_id = new_chat(store, [name])
    first, last = None, None
    for states in send(store, chat_id, PROMPT, [Column(name, ChatSettings(max_new_tokens=n_tokens))]):
        if states[0].text and first is None:
            first = time.perf_counter() - began
        last = states[0]
    if last.status != "done":
        raise SystemExit(f"chat stack failed: {last.error}")
    return first, time.perf_counter() - began, last.text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128, help="new tokens per answer")
    parser.add_argument("--repeats", type=int, default=3, help="timed answers per side (after one warm-up)")
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.models.default_model import bundled_gguf, convert_gguf, default_model_dir, is_prepared
    from pipeline.store import Store

    with tempfile.TemporaryDirectory() as home:
        folder = default_model_dir()
        if not is_prepared(folder):
            print("converting the embedded GGUF once (about 20 s)...", file=sys.stderr)
            folder = convert_gguf(bundled_gguf(), Path(home) / "SmolLM2-135M-Instruct")
        store = Store(Path(home) / "studio.db")
        store.register_model("smollm2", "local", str(folder), template="chat")
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa").eval()
        bare_run(model, tokenizer, 8)            # warm-up: first-call allocations on both sides
        stack_run(store, "smollm2", 8)           # also loads the model into the shared cache
        bare, stack = [], []
        for _ in range(args.repeats):            # interleaved, so machine load hits both alike
            bare.append(bare_run(model, tokenizer, args.tokens))
            stack.append(stack_run(store, "smollm2", args.tokens))
        if bare[-1][2].strip() != stack[-1][2].strip():
            print("warning: the two paths produced different text", file=sys.stderr)
        n = len(tokenizer(stack[-1][2], add_special_tokens=False)["input_ids"])
        print(f"{'path':<12} {'first token':>12} {'total':>9} {'tokens/s':>9}   ({n} tokens, median of {args.repeats})")
        medians = {}
        for label, runs in (("bare", bare), ("chat stack", stack)):
            ttft = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            medians[label] = total
            print(f"{label:<12} {ttft:>11.3f}s {total:>8.2f}s {n / max(total - ttft, 1e-9):>9.1f}")
        store.close()
    overhead = (medians["chat stack"] / medians["bare"] - 1) * 100
    print(f"overhead {overhead:.0f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
