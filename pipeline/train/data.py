"""From a frozen dataset to the prompt/completion rows SFTTrainer trains on.

Each pair is rendered with the shared templates (pipeline/models/templates.py): the prompt is
`render(template, instruction, input)` and the completion is the rest of the full rendering, so
training, chat and eval see byte-identical prompts. With prompt/completion rows TRL masks the
prompt (completion_only_loss) and packs rows padding-free. Pairs longer than max_length are
left out rather than cut (a truncated function teaches the model to stop mid-code); the count is
reported, and a dataset with nothing left is refused with what to change.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from pipeline.jsonl import read_jsonl as read_records
from pipeline.train import TrainError


def dataset_examples(store, dataset_id: int) -> list[dict]:
    """The frozen train pairs, as dicts(pair_id, instruction, input, output), read from the
    dataset's snapshot (never the live pairs, which may have been edited since the freeze), through
    the same scrub gate as every export (a secret a labeller or reviewer wrote is not trained into
    weights). The held-out test split is never trained on: it is what the own-code eval scores."""
    from pipeline.pairs.export import gated_examples

    return list(gated_examples(store, store.get_dataset_by_id(int(dataset_id)), split="train"))


def prompt_completion(template: str, example: dict, tokenizer=None) -> dict:
    from pipeline.models.templates import render

    prompt = render(template, example["instruction"], example.get("input") or "", tokenizer=tokenizer)
    full = render(template, example["instruction"], example.get("input") or "", example["output"],
                  tokenizer=tokenizer)
    assert full.startswith(prompt), "templates guarantee the prompt is a prefix of the full text"
    return {"prompt": prompt, "completion": full[len(prompt):]}


def build_rows(examples: list[dict], template: str, tokenizer, max_length: int) -> tuple[list[dict], dict]:
    """(rows that fit, stats). A row's length counts the EOS token TRL appends to a completion."""
    if not examples:
        raise TrainError("the dataset is empty: freeze a dataset with at least one approved pair "
                         "(Pairs tab → Datasets, or `python -m pipeline pairs freeze`)")
    rows, lengths, too_long = [], [], 0
    eos = 1 if tokenizer.eos_token_id is not None else 0
    # A dataset with conversations trains on pre-tokenized rows whose mask covers every assistant
    # turn (pipeline.train.conversation_rows); a single-turn dataset keeps prompt/completion rows.
    conversations = any(ex.get("messages") for ex in examples)
    for ex in examples:
        if not (ex.get("output") or "").strip():
            continue
        if conversations:
            from pipeline.train.conversation_rows import tokenized_row

            row = tokenized_row(template, ex, tokenizer)
            n = len(row["input_ids"])
        else:
            row = prompt_completion(template, ex, tokenizer)
            n = len(tokenizer(row["prompt"] + row["completion"], add_special_tokens=False)["input_ids"]) + eos
        if n > max_length:
            too_long += 1
            continue
        rows.append(dict(row, pair_id=ex.get("pair_id")))
        lengths.append(n)
    if not rows:
        raise TrainError(
            f"all {len(examples)} pairs are longer than max_length={max_length} tokens (or have no "
            f"output); raise max_length or freeze a dataset of shorter pairs")
    talks = {ex.get("pair_id") for ex in examples if ex.get("messages")}
    stats = {"pairs": len(examples), "used": len(rows), "too_long": too_long,
             "conversations": sum(1 for r in rows if r["pair_id"] in talks),
             "tokens": sum(lengths), "longest": max(lengths), "mean_length": sum(lengths) / len(lengths)}
    return rows, stats


def split_rows(rows: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """A seeded train/eval split; an eval split keeps at least one row on each side."""
    if eval_fraction <= 0 or len(rows) < 2:
        return rows, []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(rows) - 1, max(1, round(len(rows) * eval_fraction)))
    eval_ids = set(order[:n_eval])
    return ([r for i, r in enumerate(rows) if i not in eval_ids],
            [r for i, r in enumerate(rows) if i in eval_ids])


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            keys = ("input_ids", "assistant_masks") if "input_ids" in r else ("prompt", "completion")
            fh.write(json.dumps({k: r[k] for k in keys}) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """The rows `write_jsonl` wrote (an empty file is an empty split), through pipeline.jsonl."""
    return read_records(path, error=TrainError, allow_empty=True)
