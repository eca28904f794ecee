"""Reply cleaning: wrappers stripped, empty and code-bearing replies refused with a reason."""
from __future__ import annotations

import random

import pytest

from pipeline.label.endpoint import backoff_delay
from pipeline.label.replies import clean_docstring, clean_reply

CODE = "def add_numbers(a, b):\n    running_total_of_both = a + b\n    return running_total_of_both\n"


@pytest.mark.parametrize("raw, expected", [
    ('Instruction: "Write a Python function that adds two numbers."', "Write a Python function that adds two numbers."),
    ("```\nWrite a Python function that adds two numbers.\n```", "Write a Python function that adds two numbers."),
    ("**Instruction:** Write a GDScript function.", "Write a GDScript function."),
    ("Here is the instruction: Create a Lua function `jump`.", "Create a Lua function `jump`."),
    ("“Write a Go function that sorts a slice.”", "Write a Go function that sorts a slice."),
    ("  Task: Write a Rust function that parses (a, b) pairs.  ", "Write a Rust function that parses (a, b) pairs."),
])
def test_wrappers_are_stripped(raw, expected):
    assert clean_reply(raw, CODE) == (expected, None)


@pytest.mark.parametrize("raw", ["", "   ", '""', "Instruction:", "```\n```"])
def test_empty_replies_are_refused(raw):
    assert clean_reply(raw, CODE) == (None, "empty reply")


@pytest.mark.parametrize("raw", [
    "Write this:\n```python\ndef f():\n    pass\n```",
    "Write a function like\ndef add_numbers(a, b):",
    "Make sure running_total_of_both = a + b is returned",
    "Write a C function:\nint add(int a, int b) {",
])
def test_replies_with_code_are_refused(raw):
    instruction, reason = clean_reply(raw, CODE)
    assert instruction is None and ("code" in reason)


def test_prose_mentioning_a_name_is_kept():
    text = "Write a Python function `add_numbers` that returns the sum of its two arguments."
    assert clean_reply(text, CODE) == (text, None)


@pytest.mark.parametrize("doc, expected", [
    ("# Moves the player.\n# Called every frame.", "Moves the player.\nCalled every frame."),
    ('"""Add two numbers.\n\n    Returns the sum.\n    """', "Add two numbers.\n\nReturns the sum."),
    ("/**\n * Adds numbers.\n * @param a first\n */", "Adds numbers.\n@param a first"),
    ("-- Spawns an enemy", "Spawns an enemy"),
    ("## Godot doc comment", "Godot doc comment"),
    ("#\n#", None),
])
def test_docstring_markers_are_removed(doc, expected):
    assert clean_docstring(doc) == expected


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after():
    rng = random.Random(0)
    delays = [backoff_delay(a, 1.0, 60.0, rng=rng) for a in range(6) for _ in range(50)]
    caps = [min(60.0, 2 ** a) for a in range(6) for _ in range(50)]
    assert all(0 <= d <= c for d, c in zip(delays, caps))
    assert max(delays[250:]) > 8  # later attempts wait longer
    assert all(backoff_delay(0, 1.0, 60.0, retry_after=3.0, rng=rng) >= 3.0 for _ in range(20))
    assert backoff_delay(0, 1.0, 10.0, retry_after=999, rng=rng) <= 10.25  # capped
