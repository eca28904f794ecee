"""Strict verdict parsing: a judge's reply gives exactly the verdict its prompt asked for, or it is
unparseable — never guessed.

    parse_single("… Rating: [[7]]")                        -> {"score": 7.0}
    parse_single("Rating: [[7]] … on reflection [[4]]")    -> VerdictError("two different ratings …")
    parse_pairwise("… [[B]]")                              -> "B"     ([[C]] means a tie)
    parse_multi("System A: 7/10 - …\\nSystem B: 3/10 - …", ["A", "B"]) -> ({"A": 7.0, "B": 3.0}, reasons)
    parse_rubric("Functionality: [[8]]\\nVerbosity: [[6]]") -> {"functionality": 8.0, "verbosity": 6.0}

A reply that repeats the same verdict twice (a summary line echoing it) is accepted; two
*different* verdicts, a score outside the scale, a missing system or a refusal are refused with a
reason, which the judging run stores with the raw reply after its retries are spent.
"""
from __future__ import annotations

import re

from pipeline.errors import StudioError

NUMBER = r"(-?\d+(?:\.\d+)?)"
RATING = re.compile(r"\[\[\s*" + NUMBER + r"\s*(?:/\s*10\s*)?\]\]")
# MT-bench's fallback when a judge writes one bracket ("Rating: [7]"); only after "Rating:", so a
# list index or a citation in the explanation is never read as a score.
RATING_SINGLE_BRACKET = re.compile(r"Rating:?\s*\[\s*" + NUMBER + r"\s*(?:/\s*10\s*)?\]", re.I)
PAIR = re.compile(r"\[\[\s*([A-Za-z]+)\s*\]\]")
# Horizontal space only after the number: "System A: 7/10" with no reason must not swallow the next line.
SYSTEM_LINE = re.compile(r"^[^\w\n]*System[ \t]+([A-Z])[^\w\n]*?[ \t]*[:=\-][ \t]*" + NUMBER
                         + r"[ \t]*(?:/[ \t]*10)?[ \t]*(?:[-–—:|][ \t]*)?(.*)$", re.I | re.M)
AXIS = re.compile(r"\b(functionality|verbosity)\b\W*(?:score)?\W*\[\[\s*" + NUMBER + r"\s*(?:/\s*10\s*)?\]\]", re.I)
REFUSAL = re.compile(r"\b(I can(?:no|')t|I am unable|I'm unable|I won't|as an AI)\b", re.I)


class VerdictError(StudioError):
    """The judge's reply does not hold exactly one verdict of the asked form; the message says why."""


def _nothing(reply: str, what: str) -> VerdictError:
    if not (reply or "").strip():
        return VerdictError("empty reply")
    if REFUSAL.search(reply):
        return VerdictError(f"the judge refused or gave no {what}")
    return VerdictError(f"no {what} in the reply")


def _one_score(values: list[str], low: float, high: float, what: str) -> float:
    scores = sorted({float(v) for v in values})
    if len(scores) > 1:
        raise VerdictError(f"two different values for the {what} in one reply ({', '.join(f'{s:g}' for s in scores)})")
    score = scores[0]
    if not low <= score <= high:
        raise VerdictError(f"{what} {score:g} is outside {low:g}–{high:g}")
    return score


def parse_single(reply: str, low: float = 1, high: float = 10) -> dict:
    """MT-bench single grading: "Rating: [[N]]" (its fallback "Rating: [N]" too)."""
    found = RATING.findall(reply or "") or RATING_SINGLE_BRACKET.findall(reply or "")
    if not found:
        raise _nothing(reply, "rating [[N]]")
    return {"score": _one_score(found, low, high, "rating")}


def parse_pairwise(reply: str) -> str:
    """MT-bench pairwise: "[[A]]", "[[B]]" or "[[C]]" (tie). Returns "A", "B" or "tie"."""
    found = {v.upper() for v in PAIR.findall(reply or "")}
    if not found:
        raise _nothing(reply, "verdict [[A]], [[B]] or [[C]]")
    unknown = found - {"A", "B", "C"}
    if unknown:
        raise VerdictError(f"unknown verdict [[{sorted(unknown)[0]}]]; expected [[A]], [[B]] or [[C]]")
    if len(found) > 1:
        raise VerdictError(f"two different verdicts in one reply ({', '.join(sorted(found))})")
    verdict = found.pop()
    return "tie" if verdict == "C" else verdict


def parse_multi(reply: str, labels: list[str], low: float = 0, high: float = 10) -> tuple[dict, dict]:
    """DreamerGPT-style: one line "System X: N/10 - reason" per shown system, each exactly once."""
    scores: dict[str, list[str]] = {}
    reasons: dict[str, str] = {}
    for label, value, reason in SYSTEM_LINE.findall(reply or ""):
        label = label.upper()
        if label not in labels:
            raise VerdictError(f"a score for System {label}, which was not shown (systems: {', '.join(labels)})")
        scores.setdefault(label, []).append(value)
        reasons.setdefault(label, reason.strip())
    if not scores:
        raise _nothing(reply, "'System X: N/10' lines")
    missing = [label for label in labels if label not in scores]
    if missing:
        raise VerdictError(f"no score for System {', '.join(missing)}")
    return {label: _one_score(scores[label], low, high, f"score of System {label}") for label in labels}, reasons


def parse_rubric(reply: str, low: float = 1, high: float = 10) -> dict:
    """godot-dodo's functionality and verbosity axes: "Functionality: [[N]]", "Verbosity: [[N]]"."""
    found: dict[str, list[str]] = {}
    for axis, value in AXIS.findall(reply or ""):
        found.setdefault(axis.lower(), []).append(value)
    if not found:
        raise _nothing(reply, "'Functionality: [[N]]' / 'Verbosity: [[N]]'")
    missing = [a for a in ("functionality", "verbosity") if a not in found]
    if missing:
        raise VerdictError(f"no {' or '.join(missing)} score")
    return {axis: _one_score(found[axis], low, high, f"{axis} score") for axis in ("functionality", "verbosity")}
