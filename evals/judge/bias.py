"""Scores and bias figures of a judged eval, computed from its stored judgments (pure functions).

    summarize(run, judgments, answers, items, votes)  -> {"models": …, "categories": …, "bias": …}

Scores: mean judge score per model (single/multi: the score; rubric: functionality, with verbosity
and the syntax column — 10 × the validity checker's pass rate — beside it), and per category × model (DreamerGPT's table). Pairwise: each
ordered pair is judged in both orders; if the two verdicts disagree the pair is a tie (MT-bench's
rule), and a model's score is its win rate ×10 (a win 1, a tie ½), so every mode reads 0–10.

Bias figures, each with the number of cases it rests on:
- flip rate (pairwise): share of pairs whose winner changes when the answers swap places;
- first-position win rate (pairwise): share of decisive single-order verdicts won by the first answer;
- position means (multi): mean score by the position shown, where the order was shuffled;
- length correlation: Pearson r between answer length (characters) and score; for pairwise, the
  share of decisive verdicts won by the longer answer;
- self-preference, when the judge is also a contestant: its mean score for its own answers minus
  its mean for the others' (pairwise: its own win rate minus 0.5) — a quality gap shows up here
  too, so read it beside the other judges' view;
- arena agreement: over model pairs with both arena votes and judgments, the share where the
  arena's majority and the judge's preference point the same way.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _average(values: list[float]) -> float:
    """The mean of a list known to be non-empty."""
    return sum(values) / len(values)


def _pairwise_outcomes(ok: list[dict]) -> tuple[list[dict], int, int]:
    """Combine both orders of each pair: [{item, a, b, winner}], flips, pairs with both orders."""
    by_pair: dict[tuple, dict] = defaultdict(dict)
    for j in ok:
        a, b = sorted(j["systems"])
        by_pair[(j["item_id"], a, b)]["BA" if j["swapped"] else "AB"] = j["winner"]
    outcomes, flips, both = [], 0, 0
    for (item, a, b), orders in by_pair.items():
        if len(orders) == 2:
            both += 1
            first, second = orders["AB"], orders["BA"]
            flips += first != second
            winner = first if first == second else "tie"
        else:
            winner = next(iter(orders.values()))
        outcomes.append({"item_id": item, "a": a, "b": b, "winner": winner})
    return outcomes, flips, both


def summarize(run: dict, judgments: list[dict], answers: dict, items: list[dict],
              votes: dict | None = None, validity: dict | None = None) -> dict:
    mode, judge, contestants = run["mode"], run["judge"], run["contestants"]
    category = {i["id"]: i["category"] for i in items}
    ok = [j for j in judgments if j["status"] == "ok"]
    counts = {s: sum(1 for j in judgments if j["status"] == s) for s in ("ok", "unparseable", "failed")}
    constrained = sum(1 for j in ok if j.get("constrained"))
    if constrained:  # verdicts the local judge filled by constrained decoding (evals/judge/constrained.py)
        counts["ok (constrained verdict)"] = constrained
    per_model: dict[str, list[float]] = defaultdict(list)
    per_cat: dict[tuple[str, str], list[float]] = defaultdict(list)
    lengths: list[float] = []
    scores_for_length: list[float] = []
    bias: dict = {}
    if mode == "pairwise":
        outcomes, flips, both = _pairwise_outcomes(ok)
        for o in outcomes:
            for model in (o["a"], o["b"]):
                points = 1.0 if o["winner"] == model else 0.5 if o["winner"] == "tie" else 0.0
                per_model[model].append(points * 10)
                per_cat[(category.get(o["item_id"], "?"), model)].append(points * 10)
        decisive = [j for j in ok if j["winner"] != "tie"]
        first_wins = sum(1 for j in decisive if j["winner"] == j["systems"][0])
        longer = [j for j in decisive if len(answers.get((j["systems"][0], j["item_id"]), "")) !=
                  len(answers.get((j["systems"][1], j["item_id"]), ""))]
        longer_wins = sum(1 for j in longer if j["winner"] == max(
            j["systems"], key=lambda m: len(answers.get((m, j["item_id"]), ""))))
        bias["flip_rate"] = {"value": flips / both if both else None, "n": both}
        bias["first_position_win_rate"] = {"value": first_wins / len(decisive) if decisive else None,
                                           "n": len(decisive)}
        bias["longer_answer_win_rate"] = {"value": longer_wins / len(longer) if longer else None, "n": len(longer)}
        if judge in contestants:
            own = [1.0 if o["winner"] == judge else 0.5 if o["winner"] == "tie" else 0.0
                   for o in outcomes if judge in (o["a"], o["b"])]
            bias["self_preference"] = {"value": _average(own) - 0.5 if own else None, "n": len(own),
                                       "meaning": "own win rate minus 0.5"}
        preference = _pairwise_preference(outcomes)
    else:
        positions: dict[int, list[float]] = defaultdict(list)
        extra: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for j in ok:
            for pos, model in enumerate(j["systems"]):
                score = j["scores"]["functionality"] if mode == "rubric" else j["scores"][model]
                per_model[model].append(score)
                per_cat[(category.get(j["item_id"], "?"), model)].append(score)
                lengths.append(len(answers.get((model, j["item_id"]), "")))
                scores_for_length.append(score)
                if mode == "multi":
                    positions[pos].append(score)
                if mode == "rubric":
                    extra["verbosity"][model].append(j["scores"]["verbosity"])
        bias["length_correlation"] = {"value": pearson(lengths, scores_for_length), "n": len(lengths)}
        if mode == "multi":
            bias["position_means"] = {"value": {str(p + 1): round(_average(v), 3) for p, v in sorted(positions.items())},
                                      "n": sum(len(v) for v in positions.values())}
        if judge in contestants:
            own = per_model.get(judge, [])
            others = [s for m, v in per_model.items() if m != judge for s in v]
            bias["self_preference"] = {"value": _average(own) - _average(others) if own and others else None,
                                       "n": len(own), "meaning": "mean own score minus mean of the others"}
        preference = {(a, b): (_mean(per_model[a]) or 0) - (_mean(per_model[b]) or 0)
                      for a in per_model for b in per_model if a < b}
    bias["arena_agreement"] = _arena_agreement(preference, votes or {})
    models = {m: {"score": _round(_mean(per_model.get(m, []))), "judged": len(per_model.get(m, []))}
              for m in contestants}
    if mode == "rubric":
        # The syntax column is the validity checker's, over every checked answer, whether or not
        # the judge's verdict on it could be parsed.
        for (model, _item), valid in (validity or {}).items():
            if valid is not None:
                extra["syntax"][model].append(10.0 if valid else 0.0)
        for axis, by_model in extra.items():
            for m in contestants:
                models[m][axis] = _round(_mean(by_model.get(m, [])))
    cats = sorted({c for c, _ in per_cat})
    return {"mode": mode, "judge": judge, "counts": counts, "models": models,
            "categories": {c: {m: _round(_mean(per_cat.get((c, m), []))) for m in contestants} for c in cats},
            "bias": bias}


def _pairwise_preference(outcomes: list[dict]) -> dict[tuple[str, str], float]:
    """(a, b) with a < b -> a's wins minus b's wins over every item."""
    pref: dict[tuple[str, str], float] = defaultdict(float)
    for o in outcomes:
        if o["winner"] != "tie":
            pref[(o["a"], o["b"])] += 1 if o["winner"] == o["a"] else -1
    return pref


def _arena_agreement(preference: dict, votes: dict) -> dict:
    agree = total = 0
    for (a, b), tally in votes.items():
        judged = preference.get((a, b))
        arena = tally["a"] - tally["b"]
        if judged is None or judged == 0 or arena == 0:
            continue
        total += 1
        agree += (judged > 0) == (arena > 0)
    return {"value": agree / total if total else None, "n": total,
            "meaning": "model pairs where the arena majority and the judge agree"}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
