"""Setup shared by the training tests: a frozen dataset of small code pairs (through the store's
own import and freeze methods) and a TrainConfig for a tiny model that trains in seconds."""
from __future__ import annotations

from tests.pairs_helpers import add_pairs

FUNCS = [
    ("Add two numbers.", "def add(a, b):\n    return a + b\n"),
    ("Reverse a string.", "def reverse(s):\n    return s[::-1]\n"),
    ("Print hello when the node is ready.", "func _ready():\n\tprint('hello')\n"),
    ("Return the larger of two numbers.", "def larger(a, b):\n    return a if a > b else b\n"),
    ("Square a number.", "def square(x):\n    return x * x\n"),
    ("Check whether a number is even.", "def is_even(n):\n    return n % 2 == 0\n"),
]


def freeze_dataset(store, name: str = "toy", copies: int = 4, template: str = "alpaca",
                   rows: list[tuple[str, str]] | None = None) -> dict:
    pairs = [{"instruction": i, "input": "", "output": o, "language": "python", "status": "approved"}
             for i, o in (rows or FUNCS)] * copies
    ids = add_pairs(store, pairs, prefix=name)
    return store.create_dataset(name, ids, {"test": True}, template)


def register_tiny(store, path, name: str = "tiny") -> str:
    store.register_model(name, "local", str(path), template="alpaca", replace=True)
    return name


def tiny_config(**overrides):
    from pipeline.train.config import TrainConfig

    values = dict(base_model="tiny", dataset="toy", method="lora", lora_r=8, lora_alpha=16,
                  lora_dropout=0.0, max_steps=12, learning_rate=5e-3, warmup_ratio=0.0,
                  batch_size=4, max_length=256, logging_steps=2, save_steps=6, save_total_limit=0,
                  lr_scheduler="constant", device="cpu")
    values.update(overrides)
    return TrainConfig(**values)
