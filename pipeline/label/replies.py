"""Turn a labeller's raw reply (or a dropped docstring) into a clean instruction, or say why not.

    clean_reply("Instruction: \"Write a GDScript function that …\"", code)  -> ("Write a …", None)
    clean_reply("```gdscript\nfunc f():\n```", code)                      -> (None, "reply contains code")

Models wrap answers in fences, quotes and "Instruction:" prefaces; those are stripped. A reply
that is empty or carries code (a fenced block, code-shaped lines, or a line of the snippet
itself) is rejected, because the code is the pair's output and must not leak into its prompt.
"""
from __future__ import annotations

import inspect
import re

FENCE = re.compile(r"```[\w+#.-]*[ \t]*\n?(.*?)\n?```", re.S)
PREFIX = re.compile(
    r"^\s*(?:[*_#>]+\s*)?(?:here(?:'s| is) (?:the |an |a )?(?:user )?instruction\s*:?|"
    r"(?:user )?instruction|task|prompt|request|user)\s*[*_]*\s*:\s*[*_]*\s*", re.I)
QUOTES = [('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("`", "`"), ("«", "»")]
# Lines no sentence looks like: a definition header, or a line ending in a brace or semicolon.
CODE_LINE = re.compile(
    r"^\s*(?:(?:async\s+)?(?:def|func|function|fn|static func|public|private|protected)\s+\w+\s*\(|"
    r"#include\b|from\s+[\w.]+\s+import\b|import\s+[\w.]+\s*;|class\s+\w+\s*[:({])|[{};]\s*$")
MIN_SHARED_LINE = 24   # a line of the snippet this long, repeated verbatim, means code leaked in


def clean_reply(raw: str | None, code: str = "") -> tuple[str | None, str | None]:
    """(instruction, None) when usable, else (None, reason)."""
    text = (raw or "").strip()
    whole = FENCE.fullmatch(text)
    if whole:  # the model fenced its whole answer: the prose inside is the reply
        text = whole.group(1).strip()
    text = _strip_wrappers(text)
    if not text:
        return None, "empty reply"
    if "```" in text:
        return None, "reply contains code (a code block)"
    for line in text.splitlines():
        if CODE_LINE.search(line):
            return None, f"reply contains code ({line.strip()[:60]!r})"
    for line in (code or "").splitlines():
        line = line.strip()
        if len(line) >= MIN_SHARED_LINE and line in text:
            return None, "reply repeats a line of the code"
    return text, None


def _strip_wrappers(text: str) -> str:
    for _ in range(3):  # prefix inside quotes inside bold… peel a few layers
        before = text
        text = PREFIX.sub("", text, count=1).strip()
        text = re.sub(r"^\*\*(.*)\*\*$", r"\1", text, flags=re.S).strip()
        for left, right in QUOTES:
            if len(text) >= 2 and text.startswith(left) and text.endswith(right) \
                    and text.count(left) + (text.count(right) if right != left else 0) <= 2:
                text = text[len(left):-len(right)].strip()
        if text == before:
            break
    return text


COMMENT_MARKERS = re.compile(r"^\s*(?:///?|#+!?|--+|;+|\*+/?|/\*+\*?|\*)\s?")


def clean_docstring(doc: str | None) -> str | None:
    """A docstring or comment block without its markers (#, //, --, /* */, triple quotes), or None."""
    text = (doc or "").strip()
    for quote in ('"""', "'''"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 6:
            text = text[3:-3]
    text = re.sub(r"\*/\s*$", "", text)
    lines = [COMMENT_MARKERS.sub("", ln).rstrip() for ln in text.splitlines()]
    text = inspect.cleandoc("\n".join(lines))
    return re.sub(r"\n{3,}", "\n\n", text) or None
