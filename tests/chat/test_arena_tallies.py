"""Arena tallies and ratings against an independent, straightforward computation on random vote
sets (wins, ties and "both bad" mixed, models on either side), and the judge's arena agreement."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.optimize import minimize

from evals.judge.bias import summarize
from pipeline.chat.leaderboard import fit_bradley_terry, leaderboard

MODELS = ("alpha", "beta", "gamma", "zeta")
WINNERS = ("a", "b", "tie", "both_bad")


def random_votes(seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    models = MODELS[:rng.randint(2, len(MODELS))]
    weights = [rng.random() for _ in WINNERS]
    return [(*rng.sample(models, 2), rng.choices(WINNERS, weights)[0]) for _ in range(rng.randint(1, 60))]


def plain_tallies(votes) -> dict[str, dict]:
    """One vote at a time: who won, who lost, or what it was when nobody did."""
    out: dict[str, dict] = {}
    for a, b, winner in votes:
        for m in (a, b):
            out.setdefault(m, {"battles": 0, "wins": 0, "losses": 0, "ties": 0, "both_bad": 0})
            out[m]["battles"] += 1
        if winner == "a":
            out[a]["wins"] += 1
            out[b]["losses"] += 1
        elif winner == "b":
            out[b]["wins"] += 1
            out[a]["losses"] += 1
        elif winner == "tie":
            out[a]["ties"] += 1
            out[b]["ties"] += 1
        else:
            out[a]["both_bad"] += 1
            out[b]["both_bad"] += 1
    return out


def plain_bradley_terry(votes, c: float = 1.0) -> dict[str, float]:
    """The penalised maximum likelihood written out vote by vote (a tie or "both bad" is half a
    win each way; every vote counted in both orders) and minimised by scipy, on the Elo scale."""
    models = sorted({m for a, b, _ in votes for m in (a, b)})
    index = {m: i for i, m in enumerate(models)}
    share = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}

    def loss(beta):
        total = 0.5 * float(beta @ beta)
        for a, b, winner in votes:
            d = math.log(10) * (beta[index[a]] - beta[index[b]])
            p = share[winner]
            total += c * 2 * (p * np.logaddexp(0, -d) + (1 - p) * np.logaddexp(0, d))
        return total

    beta = minimize(loss, np.zeros(len(models)), method="BFGS", options={"gtol": 1e-9}).x
    return {m: 400 * beta[index[m]] + 1000 for m in models}


@pytest.mark.parametrize("seed", range(30))
def test_tallies_and_ratings_match_an_independent_computation(seed):
    votes = random_votes(seed)
    rows = {r["model"]: r for r in leaderboard(votes, rounds=0)}
    expected = plain_tallies(votes)
    assert {m: {k: r[k] for k in expected[m]} for m, r in rows.items()} == expected
    ours, plain = fit_bradley_terry(votes), plain_bradley_terry(votes)
    assert ours.keys() == plain.keys()
    for m in plain:
        assert ours[m] == pytest.approx(plain[m], abs=0.5), (m, votes)


def test_both_bad_is_never_a_win_for_either_side():
    votes = [("zeta", "alpha", "both_bad")] * 5 + [("alpha", "zeta", "both_bad")] * 5
    rows = {r["model"]: r for r in leaderboard(votes, rounds=0)}
    assert rows["zeta"]["wins"] == rows["alpha"]["wins"] == 0 and rows["zeta"]["both_bad"] == 10
    assert rows["zeta"]["bt"] == pytest.approx(rows["alpha"]["bt"], abs=0.01)


@pytest.mark.parametrize("seed", range(10))
def test_store_vote_tallies_match_the_votes_in_either_seat(store, seed):
    votes = random_votes(seed)
    for a, b, winner in votes:
        store.record_vote(None, None, a, b, winner)
    expected: dict = {}
    for a, b, winner in votes:
        first, second = sorted((a, b))
        tally = expected.setdefault((first, second), {"a": 0, "b": 0, "tie": 0, "both_bad": 0})
        if winner in ("tie", "both_bad"):
            tally[winner] += 1
        else:
            tally["a" if (a if winner == "a" else b) == first else "b"] += 1
    assert store.vote_tallies() == expected


def test_both_bad_votes_do_not_make_the_judge_agree_with_the_arena(store):
    # The judge prefers alpha; the arena said "both bad" three times, with zeta on seat A.
    for _ in range(3):
        store.record_vote(None, None, "zeta", "alpha", "both_bad")
    run = {"mode": "single", "judge": "j", "contestants": ["alpha", "zeta"]}
    judgments = [{"item_id": "t1", "systems": [m], "swapped": None, "winner": None, "scores": {m: s},
                  "status": "ok"} for m, s in (("alpha", 9), ("zeta", 2))]
    m = summarize(run, judgments, {}, [{"id": "t1", "category": "x"}], store.vote_tallies())
    assert m["bias"]["arena_agreement"]["n"] == 0 and m["bias"]["arena_agreement"]["value"] is None

