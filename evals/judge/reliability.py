"""Whether a judged eval's own figures void it: the verdict on the verdicts (pure functions).

    assess(metrics, judge="m1", contestants=["m1", "m2"])
    → {"reliable": False, "reasons": ["first-position win rate 1.00 over 24 verdicts: …"],
       "flags": ["self-judging: the judge m1 is also a contestant"]}

A judged eval is **unreliable** when any of these stated thresholds is crossed (each needs enough
cases to say so; the figures themselves come from evals/judge/bias.py):
- position: the first answer shown wins more than 75 % (or under 25 %) of decisive verdicts,
  over at least 8 verdicts; or, in multi mode, the position means spread by more than 2 points;
- flips: more than half of the pairs judged in both orders change winner when swapped (≥ 4 pairs);
- format: more than half of the verdicts had to be filled by constrained decoding, or more than a
  fifth could not be parsed at all — the judge did not follow the grading format;
- too few: fewer than 10 parsed judgments.
Self-judging (the judge is one of the contestants) is always **flagged**, and so is a length
correlation above 0.7 or a self-preference beyond 1.5 points (0.15 in pairwise win rate): these
need a person's reading rather than voiding the result.

These are the usual warning levels of MT-bench's and FastChat's judge studies (position consistency,
verbosity, self-enhancement), stated here so a person can check them; MIN_* and MAX_* are the knobs.
"""
from __future__ import annotations

MAX_POSITION_SKEW = 0.25      # |first-position win rate − 0.5|
MIN_POSITION_VERDICTS = 8
MAX_POSITION_SPREAD = 2.0     # multi mode: max − min of the mean score per shown position
MAX_FLIP_RATE = 0.5
MIN_FLIP_PAIRS = 4
MAX_CONSTRAINED_SHARE = 0.5
MAX_UNPARSEABLE_SHARE = 0.2
MIN_JUDGMENTS = 10
MAX_LENGTH_CORRELATION = 0.7
MAX_SELF_PREFERENCE = {"pairwise": 0.15, "other": 1.5}


def _fig(bias: dict, name: str) -> tuple[float | None, int]:
    fig = bias.get(name) or {}
    return fig.get("value"), fig.get("n") or 0


def assess(metrics: dict, judge: str | None, contestants: list[str] | None) -> dict:
    """{"reliable": bool, "reasons": [...], "flags": [...]} for one judged eval's metrics."""
    bias, counts = metrics.get("bias") or {}, metrics.get("counts") or {}
    mode = metrics.get("mode")
    reasons, flags = [], []
    ok = counts.get("ok", 0)
    judged = ok + counts.get("unparseable", 0)
    if ok < MIN_JUDGMENTS:
        reasons.append(f"too few items: {ok} parsed judgment(s), under the {MIN_JUDGMENTS} needed to rank anything")
    value, n = _fig(bias, "first_position_win_rate")
    if value is not None and n >= MIN_POSITION_VERDICTS and abs(value - 0.5) > MAX_POSITION_SKEW:
        reasons.append(f"position bias: the answer shown first won {value:.0%} of {n} decisive verdicts "
                       f"(over {0.5 + MAX_POSITION_SKEW:.0%} or under {0.5 - MAX_POSITION_SKEW:.0%} means the "
                       "judge follows the order, not the answers)")
    value, n = _fig(bias, "flip_rate")
    if value is not None and n >= MIN_FLIP_PAIRS and value > MAX_FLIP_RATE:
        reasons.append(f"inconsistent: {value:.0%} of {n} pairs changed winner when the answers swapped places "
                       f"(over {MAX_FLIP_RATE:.0%})")
    means, n = _fig(bias, "position_means")
    if isinstance(means, dict) and len(means) > 1:
        spread = max(means.values()) - min(means.values())
        if spread > MAX_POSITION_SPREAD:
            reasons.append(f"position bias: mean scores by shown position differ by {spread:.1f} points "
                           f"(over {MAX_POSITION_SPREAD:g})")
    constrained = counts.get("ok (constrained verdict)", 0)
    if ok and constrained / ok > MAX_CONSTRAINED_SHARE:
        reasons.append(f"format: {constrained} of {ok} verdicts were filled by constrained decoding "
                       f"(over {MAX_CONSTRAINED_SHARE:.0%}): the judge did not write verdicts itself")
    unparseable = counts.get("unparseable", 0)
    if judged and unparseable / judged > MAX_UNPARSEABLE_SHARE:
        reasons.append(f"format: {unparseable} of {judged} replies held no verdict (over {MAX_UNPARSEABLE_SHARE:.0%})")
    if judge and judge in (contestants or []):
        flags.append(f"self-judging: the judge {judge} is also a contestant")
    value, n = _fig(bias, "self_preference")
    limit = MAX_SELF_PREFERENCE["pairwise" if mode == "pairwise" else "other"]
    if value is not None and n and abs(value) > limit:
        flags.append(f"self-preference {value:+.2f} over {n} (beyond ±{limit:g})")
    value, n = _fig(bias, "length_correlation")
    if value is not None and abs(value) > MAX_LENGTH_CORRELATION:
        flags.append(f"length: scores follow answer length (r = {value:.2f} over {n}, beyond ±{MAX_LENGTH_CORRELATION:g})")
    return {"reliable": not reasons, "reasons": reasons, "flags": flags}


def verdict_line(assessment: dict) -> str:
    """One line for tables and the CLI: 'unreliable: …' / 'flagged: …' / ''."""
    if not assessment["reliable"]:
        return "unreliable: " + "; ".join(assessment["reasons"] + assessment["flags"])
    if assessment["flags"]:
        return "flagged: " + "; ".join(assessment["flags"])
    return ""


def assess_run(run: dict) -> dict:
    return assess(run.get("metrics") or {}, run.get("judge"), run.get("contestants"))
