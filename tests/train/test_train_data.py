"""Training data and config: validation, response-only masking, packing equivalence, bad datasets."""
from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.train import TrainError
from pipeline.train.config import TrainConfig, config_diff
from pipeline.train.data import build_rows, dataset_examples, prompt_completion, split_rows
from tests.train_helpers import FUNCS, freeze_dataset


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_config_refuses_bad_values_with_the_setting_named():
    with pytest.raises(ConfigError, match="--method"):
        TrainConfig(method="adapter")
    with pytest.raises(ConfigError, match="early stopping needs an eval split"):
        TrainConfig(early_stopping_patience=2)
    with pytest.raises(ConfigError, match="main_address"):
        TrainConfig(num_machines=2, distributed="ddp")
    with pytest.raises(ConfigError, match="unknown TrainConfig"):
        TrainConfig.from_dict({"lerning_rate": 1e-4})


def test_config_round_trips_through_dict_and_command_line():
    cfg = TrainConfig.from_dict({"max_steps": "30", "packing": "no", "lora_target_modules": "q_proj,v_proj"})
    assert cfg.max_steps == 30 and cfg.packing is False and cfg.lora_target_modules == ["q_proj", "v_proj"]
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert "--no-packing" in cfg.command_line("python -m pipeline train start")
    assert config_diff(TrainConfig().to_dict(), cfg.to_dict()) == [
        ("lora_target_modules", ["all-linear"], ["q_proj", "v_proj"]), ("max_steps", 0, 30),
        ("packing", True, False)]


@pytest.mark.parametrize("template", ["alpaca", "octopack", "chat"])
def test_prompt_is_the_shared_template_rendering(template, tokenizer):
    from pipeline.models.templates import render

    row = prompt_completion(template, {"instruction": "Add.", "input": "", "output": "def f(): pass"}, tokenizer)
    assert row["prompt"] == render(template, "Add.", "", tokenizer=tokenizer)
    assert row["prompt"] + row["completion"] == render(template, "Add.", "", "def f(): pass", tokenizer=tokenizer)


def test_response_only_masking_is_exact(tiny_model_dir, tokenizer):
    """No prompt token carries a label, and every completion token (plus EOS) does."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    examples = [{"instruction": i, "input": "", "output": o} for i, o in FUNCS]
    rows, _ = build_rows(examples, "alpaca", tokenizer, 256)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), processing_class=tokenizer,
        train_dataset=Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]),
        args=SFTConfig(output_dir="/tmp/unused", completion_only_loss=True, packing=False, max_length=256,
                       report_to="none", use_cpu=True))
    for row, item in zip(rows, trainer.train_dataset):
        batch = trainer.data_collator([item])
        labels, ids = batch["labels"][0].tolist(), batch["input_ids"][0].tolist()
        n_prompt = len(tokenizer(row["prompt"], add_special_tokens=False)["input_ids"])
        assert all(x == -100 for x in labels[:n_prompt])
        expected = tokenizer(row["completion"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        assert labels[n_prompt:] == expected == ids[n_prompt:]


@pytest.mark.parametrize("attention", ["sdpa", "sdpa_varlen"])
def test_packed_and_padded_batches_give_the_same_loss(tiny_model_dir, tokenizer, attention):
    """Padding-free packing equals the padded batch: with sdpa through the block-diagonal mask
    transformers builds from position_ids, with sdpa_varlen through sdpa per packed pair."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from pipeline.train import varlen_attention

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa").eval()
    if attention == "sdpa_varlen":
        varlen_attention.use(model)
    texts = [o for _, o in FUNCS[:4]]
    examples = [{"input_ids": tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
    assert len({len(e["input_ids"]) for e in examples}) > 1  # really variable length
    padded = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)(examples)
    packed = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(examples)
    assert "attention_mask" not in packed and packed["input_ids"].shape[0] == 1
    # use_cache=False as SFTTrainer passes it: with a KV cache transformers skips the packed-mask path.
    with torch.no_grad():
        loss_padded = model(**padded, use_cache=False).loss
        loss_packed = model(**packed, use_cache=False).loss
    assert torch.allclose(loss_padded, loss_packed, atol=1e-4), (loss_padded, loss_packed)


def test_empty_dataset_is_refused_with_what_to_do(tokenizer):
    with pytest.raises(TrainError, match="dataset is empty"):
        build_rows([], "alpaca", tokenizer, 256)


def test_all_pairs_longer_than_max_length_is_refused(tokenizer):
    examples = [{"instruction": i, "input": "", "output": o * 20} for i, o in FUNCS]
    with pytest.raises(TrainError, match="longer than max_length=64"):
        build_rows(examples, "alpaca", tokenizer, 64)


def test_long_pairs_are_left_out_and_counted(tokenizer):
    examples = [{"instruction": "x", "input": "", "output": FUNCS[0][1] * 30}] + \
               [{"instruction": i, "input": "", "output": o} for i, o in FUNCS]
    rows, stats = build_rows(examples, "octopack", tokenizer, 128)
    assert stats["too_long"] == 1 and stats["used"] == len(FUNCS) == len(rows)


def test_split_is_seeded_and_keeps_both_sides():
    rows = [{"prompt": str(i), "completion": "c"} for i in range(10)]
    a = split_rows(rows, 0.2, 7)
    assert a == split_rows(rows, 0.2, 7) and len(a[1]) == 2 and len(a[0]) == 8
    assert split_rows(rows[:2], 0.01, 1)[1] and split_rows(rows[:2], 0.01, 1)[0]


def test_frozen_dataset_is_read_as_its_pairs(store):
    dataset = freeze_dataset(store, copies=1)
    examples = dataset_examples(store, dataset["id"])
    assert [(e["instruction"], e["output"]) for e in examples] == FUNCS
    assert all(e["pair_id"] for e in examples)
