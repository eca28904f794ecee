"""Token counts and dollars for labelling: the estimate before a run and the price of each reply.

Tokens are counted with tiktoken when it is installed and its encoding is available offline,
else with a chars/4 heuristic; every estimate names the method it used. Prices come from the
`prices` table ($ per million tokens), looked up by the registered model name, then by the model
id at the endpoint; local models cost nothing.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache

MESSAGE_OVERHEAD = 4   # role and separators, per chat message (OpenAI's cookbook figure)
REPLY_PRIMING = 3


@lru_cache(maxsize=1)
def _encoding():
    try:
        import tiktoken

        return tiktoken.get_encoding("o200k_base")
    except Exception:  # not installed, or its BPE file cannot be fetched offline
        return None


def token_method() -> str:
    return "tiktoken o200k_base" if _encoding() is not None else "chars/4 heuristic (tiktoken not available)"


def count_tokens(text: str) -> int:
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text or "", disallowed_special=()))
    return math.ceil(len(text or "") / 4)


def count_message_tokens(messages: list[dict]) -> int:
    return sum(count_tokens(m.get("content") or "") + MESSAGE_OVERHEAD for m in messages) + REPLY_PRIMING


def price_for(store, model: dict) -> dict | None:
    """The price row for a model, or None when an endpoint model has no price yet."""
    for key in (model.get("name"), model.get("path")):
        if key:
            row = store.get_price(key)
            if row:
                return row
    if model.get("kind") != "openai":
        return {"model": model.get("name"), "input_per_mtok": 0.0, "output_per_mtok": 0.0, "batch_discount": 0.0}
    return None


def cost_of(price: dict | None, tokens_in: int, tokens_out: int, batch: bool = False) -> float:
    if not price:
        return 0.0
    cost = (tokens_in * price["input_per_mtok"] + tokens_out * price["output_per_mtok"]) / 1_000_000
    return cost * (1 - price["batch_discount"]) if batch else cost


@dataclass
class Estimate:
    snippets: int
    tokens_in: int
    tokens_out: int                       # assumed: expected reply length x snippets
    cost: float
    price_known: bool
    batch: bool
    method: str = field(default_factory=token_method)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.snippets:
            return "nothing to label: every selected snippet already has a pair for this model and prompt"
        money = f"${self.cost:.4f}" if self.price_known else "cost unknown (no price for this model)"
        line = (f"{self.snippets} snippets · ~{self.tokens_in:,} tokens in + ~{self.tokens_out:,} out "
                f"· {money}{' (Batch API price)' if self.batch else ''} · tokens by {self.method}")
        return "; ".join([line, *self.notes])

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(store, model: dict, prompts: list[list[dict]], expected_output_tokens: int,
             batch: bool = False) -> Estimate:
    price = price_for(store, model)
    tokens_in = sum(count_message_tokens(p) for p in prompts)
    tokens_out = expected_output_tokens * len(prompts)
    notes = [] if price else [f"add a price for {model.get('path') or model.get('name')!r} to get a cost"]
    return Estimate(len(prompts), tokens_in, tokens_out, cost_of(price, tokens_in, tokens_out, batch),
                    price is not None, batch, notes=notes)
