"""sdpa_varlen (sdpa per packed pair): exact against per-sequence sdpa, forward and gradients;
plain sdpa wherever a call is not a packed causal self-attention; chosen for packed training and
refused (sdpa kept) for models whose attention does not go through AttentionInterface."""
from __future__ import annotations

import copy

import pytest

from pipeline.train import varlen_attention
from pipeline.train.config import TrainConfig
from pipeline.train.entry import load_model, micro_batches
from pipeline.train.launch import resolve_hardware

LENGTHS = [7, 12, 7, 3, 9, 40]  # grouped by length_buckets into padded sdpa calls


def _llama(**overrides):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    values = dict(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    values.update(overrides)
    return LlamaForCausalLM(LlamaConfig(**values)).eval()


def _pairs(lengths=LENGTHS, vocab=97):
    import torch

    g = torch.Generator().manual_seed(1)
    return [torch.randint(0, vocab, (n,), generator=g) for n in lengths]


def _packed(seqs):
    import torch

    ids = torch.cat(seqs)[None]
    pos = torch.cat([torch.arange(len(s)) for s in seqs])[None]
    cu = torch.tensor([0] + [len(s) for s in seqs]).cumsum(0).to(torch.int32)
    return ids, pos, cu


def _forward_and_grads(model, runs):
    """Logits of each run concatenated, and parameter gradients of a fixed linear objective."""
    import torch

    model.zero_grad()
    logits = torch.cat([model(**kw, use_cache=False).logits[0] for kw in runs])
    weights = torch.randn(logits.shape, generator=torch.Generator().manual_seed(2))
    (logits * weights).sum().backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("with_cu_seq_lens", [False, True])
def test_packed_row_equals_per_sequence_sdpa_forward_and_gradients(with_cu_seq_lens):
    import torch

    reference = _llama()
    reference.config._attn_implementation = "sdpa"
    varlen = copy.deepcopy(reference)
    assert varlen_attention.supports(varlen) and varlen_attention.use(varlen) == "sdpa_varlen"
    seqs = _pairs()
    ids, pos, cu = _packed(seqs)
    packed = {"input_ids": ids, "position_ids": pos}
    if with_cu_seq_lens:  # what TRL's padding-free collator passes along
        packed.update(cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=40, max_length_k=40)
    want_logits, want_grads = _forward_and_grads(reference, [{"input_ids": s[None]} for s in seqs])
    got_logits, got_grads = _forward_and_grads(varlen, [packed])
    torch.testing.assert_close(got_logits, want_logits, rtol=1e-5, atol=1e-5)
    for name, grad in want_grads.items():  # float rounding only: sums run in another order
        torch.testing.assert_close(got_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)


def test_several_packed_rows_in_a_batch_split_per_row():
    import torch

    model = _llama()
    varlen_attention.use(model)
    rows = [_pairs([5, 11]), _pairs([9, 4, 3])]
    ids = torch.stack([torch.cat(r) for r in rows])
    pos = torch.stack([torch.cat([torch.arange(len(s)) for s in r]) for r in rows])
    with torch.no_grad():
        got = model(input_ids=ids, position_ids=pos, use_cache=False).logits
        model.set_attn_implementation("sdpa")
        want = [torch.cat([model(input_ids=s[None], use_cache=False).logits[0] for s in r]) for r in rows]
    assert (got - torch.stack(want)).abs().max() < 1e-5


def test_sliding_window_shorter_than_a_pair_is_applied_inside_it():
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    torch.manual_seed(0)
    model = MistralForCausalLM(MistralConfig(
        vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, sliding_window=4)).eval()
    model.config._attn_implementation = "sdpa"
    seqs = _pairs([10, 3, 8])
    with torch.no_grad():
        want = torch.cat([model(input_ids=s[None], use_cache=False).logits[0] for s in seqs])
        varlen_attention.use(model)
        ids, pos, _ = _packed(seqs)
        got = model(input_ids=ids, position_ids=pos, use_cache=False).logits[0]
    assert (got - want).abs().max() < 1e-5


def test_padded_batches_and_generation_stay_plain_sdpa():
    import torch

    sdpa = _llama()
    sdpa.config._attn_implementation = "sdpa"
    varlen = copy.deepcopy(sdpa)
    varlen_attention.use(varlen)
    seqs = _pairs([6, 9])
    ids = torch.zeros(2, 9, dtype=torch.long)
    mask = torch.zeros(2, 9, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)], mask[i, :len(s)] = s, 1
    with torch.no_grad():
        a = sdpa(input_ids=ids, attention_mask=mask, use_cache=False).logits
        b = varlen(input_ids=ids, attention_mask=mask, use_cache=False).logits
    assert torch.equal(a, b)
    kw = dict(max_new_tokens=6, do_sample=False, pad_token_id=0)
    assert torch.equal(sdpa.generate(seqs[1][None], **kw), varlen.generate(seqs[1][None], **kw))


def test_segments_come_from_cu_seq_lens_or_position_ids():
    import torch

    pos = torch.tensor([[0, 1, 2, 0, 1, 0], [0, 1, 2, 3, 0, 1]])
    assert varlen_attention.packed_segments(2, 6, pos) == [(0, 0, 3), (0, 3, 5), (0, 5, 6), (1, 0, 4), (1, 4, 6)]
    cu = torch.tensor([0, 2, 6], dtype=torch.int32)
    assert varlen_attention.packed_segments(1, 6, pos[:1], cu) == [(0, 0, 2), (0, 2, 6)]
    assert varlen_attention.packed_segments(2, 6) == [(0, 0, 6), (1, 0, 6)]


def test_packing_without_flash_attention_picks_sdpa_varlen_and_batches_rows():
    hw = resolve_hardware(TrainConfig(device="cpu", batch_size=4, grad_accum=2))
    assert hw["attention"] == "sdpa_varlen"
    assert resolve_hardware(TrainConfig(device="cpu", packing=False))["attention"] == "sdpa"
    assert resolve_hardware(TrainConfig(device="cpu", attention="sdpa"))["attention"] == "sdpa"
    cfg = TrainConfig(batch_size=4, grad_accum=2)
    assert micro_batches(cfg, hw) == (4, 2)
    assert micro_batches(cfg, dict(hw, attention="sdpa")) == (1, 8)  # whole-row square: one row each


def test_the_embedded_default_trains_with_sdpa_varlen_and_packing_keeps_the_loss(smollm2_dir):
    """SmolLM2 (a Llama with grouped KV heads), loaded the way a run loads it."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    hw = {"precision": "fp32", "attention": "sdpa_varlen"}
    model, tokenizer, _ = load_model(TrainConfig(method="full"), {"base_path": str(smollm2_dir)}, hw)
    assert model.config._attn_implementation == "sdpa_varlen"
    texts = ["def add(a, b):\n    return a + b\n", "func _ready():\n\tprint('hello')\n", "x = 1\n"]
    examples = [{"input_ids": tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
    padded = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)(examples)
    packed = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(examples)
    with torch.no_grad():
        loss_packed = model(**packed, use_cache=False).loss
        model.set_attn_implementation("sdpa")
        loss_padded = model(**padded, use_cache=False).loss
    assert torch.allclose(loss_padded, loss_packed, atol=1e-4), (loss_padded, loss_packed)


def test_a_model_outside_attention_interface_keeps_sdpa(tmp_path, tiny_model_dir, capfd):
    """Falcon has sdpa but its own attention modules: refused, loaded with plain sdpa."""
    import torch
    from transformers import AutoTokenizer, FalconConfig, FalconForCausalLM

    torch.manual_seed(0)
    FalconForCausalLM(FalconConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=2)).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path)
    model, _, _ = load_model(TrainConfig(method="full"), {"base_path": str(tmp_path)},
                             {"precision": "fp32", "attention": "sdpa_varlen"})
    assert not varlen_attention.supports(model)
    assert model.config._attn_implementation == "sdpa"
    assert "FalconForCausalLM cannot run sdpa_varlen" in capfd.readouterr().out


def test_length_buckets_bound_the_padded_attention_cost():
    segments = [(0, 0, 800), (0, 800, 1000), (1, 0, 30), (1, 30, 60), (1, 60, 500)]
    groups = varlen_attention.length_buckets(segments)
    assert sorted(i for g in groups for i in g) == list(range(len(segments)))
    for g in groups:
        lengths = [segments[i][2] - segments[i][1] for i in g]
        assert len(lengths) * max(lengths) ** 2 <= 2 * sum(n * n for n in lengths)
    assert len(groups) < len(segments)
