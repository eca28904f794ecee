"""Constrained verdicts for local judges: the judge model fills its own verdict's slots, choosing
among the valid values by its likelihood.

    complete_verdict(judge, messages, "The answer is correct but verbose. Score", "single", 1)
      -> "The answer is correct but verbose.\\nRating: [[7]]"

Small local models explain an answer well enough but rarely end with the exact verdict line the
prompt asks for; hosted servers solve this with guided decoding (vLLM's guided choice, outlines).
This is the same idea for the transformers backend. The free reply is kept up to where a verdict
starts (anything verdict-like after that is dropped, so a half-written or second verdict cannot
leak in); then the mode's verdict lines are written from a template, and at each slot the judge's
log-probability of every valid value — followed by the template's next text, so "1]]" and
"10]]" compete fairly — picks the value. The result is parsed by the same strict parser as any
reply, and the judgment is marked `constrained`, so a reader can tell these from free verdicts.
Nothing is guessed: each value is the judge's own likeliest choice given its explanation.
"""
from __future__ import annotations

import re

from evals.judge.prompts import SYSTEM_LABELS

# Where a verdict begins in a free reply: a [[…]] or a line that starts like a verdict line.
VERDICT_START = re.compile(r"\[\[|^\W*(?:rating|verdict|final\s+verdict|score|functionality|verbosity"
                           r"|system\s+[A-E]\W*\s*[:=\-])", re.I | re.M)
MAX_EXPLANATION_CHARS = 1500   # the kept explanation; longer ones only slow the scoring passes
SCORES_1_10 = [str(i) for i in range(1, 11)]
SCORES_0_10 = [str(i) for i in range(0, 11)]


def explanation(reply: str) -> str:
    """The free part of a reply: everything before its first verdict-like text, trimmed."""
    text = reply or ""
    found = VERDICT_START.search(text)
    if found:
        text = text[:found.start()]
    return text[:MAX_EXPLANATION_CHARS].rstrip()


def template(mode: str, systems: int = 1) -> list[tuple[str, list[str] | None]]:
    """The verdict as (literal text, valid values for the slot after it or None), in order —
    exactly the format the mode's prompt names and `verdicts.py` parses."""
    if mode == "single":
        return [("\nRating: [[", SCORES_1_10), ("]]", None)]
    if mode == "pairwise":
        return [("\nVerdict: [[", ["A", "B", "C"]), ("]]", None)]
    if mode == "rubric":
        return [("\nFunctionality: [[", SCORES_1_10), ("]]\nVerbosity: [[", SCORES_1_10), ("]]", None)]
    if mode == "multi":
        pieces: list[tuple[str, list[str] | None]] = []
        for i, label in enumerate(SYSTEM_LABELS[:systems]):
            pieces.append(((f"/10\nSystem {label}: " if i else f"\nSystem {label}: "), SCORES_0_10))
        return pieces + [("/10", None)]
    raise ValueError(f"unknown judge mode {mode!r}")


def complete_verdict(judge, messages: list[dict], reply: str, mode: str, systems: int = 1) -> str:
    """The reply's explanation followed by a verdict whose every value the judge chose."""
    from pipeline.models import continuation_logprobs

    pieces = template(mode, systems)
    text = explanation(reply)
    for i, (literal, options) in enumerate(pieces):
        text += literal
        if not options:
            continue
        follow = pieces[i + 1][0] if i + 1 < len(pieces) else ""
        scores = continuation_logprobs(judge, messages, [o + follow for o in options], reply_so_far=text)
        text += options[max(range(len(options)), key=scores.__getitem__)]
    return text.lstrip("\n")
