"""`sdpa_varlen`: attention over padding-free packed rows that costs each pair's own square, on any
device, without flash-attention.

TRL's padding-free collator concatenates a batch's pairs into one row, restarts `position_ids`
at 0 where each pair begins and passes the boundaries as `cu_seq_lens_q`. With plain `sdpa`,
transformers turns that into a block-diagonal mask over the whole row and sdpa computes the whole
row's square, most of it masked away. This attention cuts the row at the pair boundaries and runs
`scaled_dot_product_attention(is_causal=True)` on each pair, so a packed row costs about the sum
of its pairs' squares, as flash-attention's varlen kernels do. Pairs of similar length share one
call, right-padded inside attention only (`length_buckets`): on a CPU each sdpa call has a fixed
cost that hundreds of small calls per step would pay.

    from pipeline.train import varlen_attention
    if varlen_attention.supports(model):     # after from_pretrained(..., attn_implementation="sdpa")
        varlen_attention.use(model)          # registers "sdpa_varlen" and switches the model to it

Guaranteed: the same result as sdpa with the block-diagonal mask, forward and gradients, up to
float rounding (tests/train/test_varlen_attention.py). Anything that is not a causal
self-attention over whole rows — a padding mask, a KV cache (decoding, chunked prefill),
bidirectional layers, position bias — goes to transformers' own sdpa with the mask sdpa would
have built, so unpacked batches and generation behave exactly as with `sdpa`. A sliding window
shorter than a pair is applied inside that pair.

Not covered, and refused by `supports()` (training then keeps plain sdpa): models whose attention
does not go through transformers' AttentionInterface (e.g. CodeGen, Bloom), encoder-decoders,
multimodal models, chunked attention (Llama 4) and logit soft-capping (Gemma 2). Like
flash-attention's padding-free path in transformers, it needs the model to hand `position_ids`
(or `cu_seq_lens_q`) on to its attention function, which every AttentionInterface decoder does.
"""
from __future__ import annotations

from itertools import pairwise

NAME = "sdpa_varlen"


def supports(model) -> bool:
    """Whether `model` (a transformers PreTrainedModel) can run `sdpa_varlen` exactly."""
    config = getattr(model, "config", None)
    if config is None or not getattr(type(model), "_supports_sdpa", False):
        return False
    compatible = getattr(type(model), "is_backend_compatible", None)
    if compatible is None or not compatible():
        return False  # its attention modules do not call AttentionInterface
    if getattr(config, "is_encoder_decoder", False) or getattr(config, "vision_config", None) is not None:
        return False
    unsupported = ("attention_chunk_size", "attn_logit_softcapping")
    return all(getattr(config, key, None) is None for key in unsupported)


def use(model) -> str:
    """Switch `model` to sdpa_varlen (registering it first); returns the implementation in use."""
    register()
    model.set_attn_implementation(NAME)
    return model.config._attn_implementation


def register() -> None:
    """Make "sdpa_varlen" known to transformers (attention and mask functions); idempotent."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(NAME, sdpa_varlen_attention)
    AttentionMaskInterface.register(NAME, varlen_mask)


def varlen_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=None,
                attention_mask=None, **kwargs):
    """No mask for a causal self-attention over whole rows without padding (packed or not: the
    attention finds the pairs itself); otherwise exactly the mask sdpa gets."""
    from transformers.masking_utils import causal_mask_function, sdpa_mask

    whole_rows = (attention_mask is None and not kwargs.get("use_vmap") and q_length == kv_length
                  and isinstance(q_offset, int) and q_offset == 0 and kv_offset == 0)
    if whole_rows:
        return None
    return sdpa_mask(batch_size, q_length, kv_length, q_offset, kv_offset,
                     mask_function or causal_mask_function, attention_mask, **kwargs)


def packed_segments(batch: int, length: int, position_ids=None, cu_seq_lens=None) -> list[tuple[int, int, int]]:
    """(row, start, end) of every sequence in a (batch, length) input, in row-major order: from
    the collator's `cu_seq_lens` (one flattened row) or from where `position_ids` stop counting
    up by one (as transformers' own packed-sequence detection). Without either: whole rows."""
    if cu_seq_lens is not None and batch == 1:
        bounds = [int(b) for b in cu_seq_lens.tolist()]
        if bounds and bounds[0] == 0 and bounds[-1] == length and all(a < b for a, b in pairwise(bounds)):
            return [(0, a, b) for a, b in pairwise(bounds)]
    if position_ids is None or position_ids.dim() != 2 or position_ids.shape[-1] != length:
        return [(row, 0, length) for row in range(batch)]
    import torch

    pos = position_ids.expand(batch, -1)
    starts = torch.diff(pos, dim=-1) != 1
    cuts: list[list[int]] = [[] for _ in range(batch)]
    for row, col in starts.nonzero().tolist():
        cuts[row].append(col + 1)
    return [(row, a, b) for row in range(batch)
            for a, b in zip([0] + cuts[row], cuts[row] + [length])]


def sdpa_varlen_attention(module, query, key, value, attention_mask, dropout: float = 0.0,
                          scaling: float | None = None, is_causal: bool | None = None, **kwargs):
    """AttentionInterface function: query (batch, heads, length, dim), key/value (batch, kv heads,
    length, dim) → (batch, length, heads, dim), None."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    batch, _, length, _ = query.shape
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    window = kwargs.get("sliding_window")
    plain = (attention_mask is not None or not causal or length != key.shape[2] or length == 1
             or kwargs.get("position_bias") is not None or kwargs.get("softcap") is not None
             or kwargs.get("s_aux") is not None)
    segments = None if plain else packed_segments(batch, length, kwargs.get("position_ids"),
                                                  kwargs.get("cu_seq_lens_q"))
    if segments is None or (len(segments) == batch and not (window and length > window)):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, is_causal=is_causal, **kwargs)
    return _segment_attention(query, key, value, segments, dropout, scaling, window), None


def length_buckets(segments: list[tuple[int, int, int]], waste: float = 2.0) -> list[list[int]]:
    """Indices of `segments` grouped for one sdpa call each: longest first, a group grows while
    its padded attention cost (members × longest²) stays within `waste` times the members' own
    squares. Few calls matter on a CPU (each sdpa call and its backward has a fixed cost); the
    padding stays inside attention, never in the linear layers."""
    order = sorted(range(len(segments)), key=lambda i: segments[i][1] - segments[i][2])
    groups: list[list[int]] = []
    longest = own = 0
    for i in order:
        n = segments[i][2] - segments[i][1]
        if groups and (len(groups[-1]) + 1) * longest ** 2 <= waste * (own + n * n):
            groups[-1].append(i)
            own += n * n
        else:
            groups.append([i])
            longest, own = n, n * n
    return groups


def _segment_attention(query, key, value, segments, dropout, scaling, window):
    """Each group of pairs right-padded to its longest and run as one causal sdpa batch: with
    padding at the end, a real query only ever sees real keys, so the result is exact. Pairs are
    cut with unbind/split and put back with cat, whose backward passes are single copies (a slice
    per pair would allocate a whole-row gradient per pair)."""
    import torch
    import torch.nn.functional as F

    batch, heads, length, _ = query.shape
    sizes: list[list[int]] = [[] for _ in range(batch)]
    for row, a, b in segments:
        sizes[row].append(b - a)

    def cut(t):  # the pairs of (batch, heads, length, d) as (heads, pair length, d) views, in order
        return [pair for row, row_sizes in zip(t.unbind(0), sizes) for pair in row.split(row_sizes, dim=1)]

    qs, ks, vs = cut(query), cut(key), cut(value)
    pieces: list = [None] * len(segments)
    for group in length_buckets(segments):
        n = max(sizes_of := [qs[i].shape[1] for i in group])

        def padded(pairs):  # (pairs, heads, n, d), zeros after each pair; called in this iteration only
            return torch.stack([F.pad(pairs[i], (0, 0, 0, n - m)) if m < n else pairs[i]  # noqa: B023
                                for i, m in zip(group, sizes_of)])  # noqa: B023

        mask = None
        if window and n > window:  # the window cuts inside a pair: causal band mask
            idx = torch.arange(n, device=query.device)
            diff = idx[:, None] - idx[None, :]
            mask = (diff >= 0) & (diff < window)
        out = F.scaled_dot_product_attention(padded(qs), padded(ks), padded(vs), attn_mask=mask,
                                             dropout_p=dropout, scale=scaling, is_causal=mask is None,
                                             enable_gqa=heads != key.shape[1])
        for i, m, pair in zip(group, sizes_of, out.transpose(1, 2).unbind(0)):
            pieces[i] = pair[:m]  # (pair length, heads, d)
    return torch.cat(pieces).view(batch, length, heads, value.shape[-1])
