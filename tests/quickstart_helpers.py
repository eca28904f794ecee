"""A small real code folder with docstrings, for the quickstart's road (unit and browser tests)."""
from __future__ import annotations

from pathlib import Path

SOURCE = {
    "textkit/strings.py": '''def shout(text):
    """Return the text in capitals with an exclamation mark."""
    loud = text.upper()
    if not loud.endswith("!"):
        loud += "!"
    return loud


def count_words(text):
    """Count the words separated by whitespace in a text."""
    words = text.split()
    if not words:
        return 0
    return len(words)
''',
    "textkit/maths.py": '''def clamp(x, low, high):
    """Limit a number to the closed interval from low to high."""
    if x < low:
        return low
    if x > high:
        return high
    return x


def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    if not values:
        raise ValueError("mean of nothing")
    total = sum(values)
    return total / len(values)
''',
}


def make_source(folder: Path) -> Path:
    for rel, text in SOURCE.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder
