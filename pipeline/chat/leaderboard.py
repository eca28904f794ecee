"""The leaderboard from votes: online Elo and a Bradley-Terry fit, each with bootstrap intervals.

Bradley-Terry is fitted the way Chatbot Arena does it: a logistic regression (scikit-learn) on
rows with +log(10) for model A and -log(10) for model B, so coefficients are on the Elo scale
(400 points = 10:1 odds). Ties and "both bad" count half a win for each side (as FastChat's
`tie (bothbad)`), and are tallied apart from wins, losses and each other; every row is also
added mirrored, so the fit is symmetric and always has both classes. A light L2 penalty keeps a
model that won every one of its few votes at a finite rating. Online Elo uses K=16 (the arena uses
4 with millions of votes; a personal studio has dozens), in vote order.

Intervals are the 2.5th and 97.5th percentiles over `rounds` bootstrap resamples of the votes:
they shrink as votes accumulate and widen when models are close or votes are few.

    arena_leaderboard(store) -> [{model, elo, elo_low, elo_high, bt, bt_low, bt_high,
                                  battles, wins, losses, ties, both_bad}, …]   # best first
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

SCALE, BASE, INIT, K = 400.0, 10.0, 1000.0, 16.0
ROUNDS = 100
OUTCOME = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}

TALLY = {"tie": "ties", "both_bad": "both_bad"}

Battle = tuple[str, str, str]   # (model_a, model_b, winner)


def battles_from_votes(votes: list[dict]) -> list[Battle]:
    """Votes as battles; a vote between a model and itself says nothing about either and is left out."""
    return [(v["model_a"], v["model_b"], v["winner"]) for v in votes
            if v["winner"] in OUTCOME and v["model_a"] != v["model_b"]]


def compute_elo(battles: list[Battle], k: float = K) -> dict[str, float]:
    ratings: dict[str, float] = {}
    for a, b, winner in battles:
        ra, rb = ratings.setdefault(a, INIT), ratings.setdefault(b, INIT)
        expected_a = 1 / (1 + BASE ** ((rb - ra) / SCALE))
        score_a = OUTCOME[winner]
        ratings[a] = ra + k * (score_a - expected_a)
        ratings[b] = rb + k * ((1 - score_a) - (1 - expected_a))
    return ratings


def fit_bradley_terry(battles: list[Battle], weights=None, c: float = 1.0) -> dict[str, float]:
    """Bradley-Terry ratings on the Elo scale, fitted by scikit-learn's LogisticRegression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    models = sorted({m for a, b, _ in battles for m in (a, b)})
    if not models:
        return {}
    index = {m: i for i, m in enumerate(models)}
    # Aggregate to one row per (a, b, outcome): the fit's cost is the number of model pairs, not votes.
    counts: defaultdict[tuple[str, str, str], float] = defaultdict(float)
    for n, (a, b, winner) in enumerate(battles):
        counts[(a, b, winner)] += 1.0 if weights is None else float(weights[n])
    rows, ys, ws = [], [], []
    for (a, b, winner), w in counts.items():
        if w <= 0:
            continue
        x = np.zeros(len(models))
        x[index[a]], x[index[b]] = math.log(BASE), -math.log(BASE)
        p = OUTCOME[winner]
        for sign, y_win in ((1, 1), (-1, 0)):           # the row and its mirror
            for y, share in ((y_win, p), (1 - y_win, 1 - p)):
                if share > 0:
                    rows.append(sign * x)
                    ys.append(y)
                    ws.append(w * share)
    if len(models) == 1:
        return {models[0]: INIT}
    fit = LogisticRegression(fit_intercept=False, C=c, tol=1e-6, max_iter=1000)
    fit.fit(np.array(rows), np.array(ys), sample_weight=np.array(ws))
    return {m: float(SCALE * fit.coef_[0][index[m]] + INIT) for m in models}


def _bootstrap(battles: list[Battle], rounds: int, seed: int) -> tuple[dict, dict]:
    import numpy as np

    rng = np.random.default_rng(seed)
    elo_samples: dict[str, list[float]] = {}
    bt_samples: dict[str, list[float]] = {}
    n = len(battles)
    for _ in range(rounds):
        picks = rng.integers(0, n, n)
        sample = [battles[i] for i in picks]
        for m, r in compute_elo(sample).items():
            elo_samples.setdefault(m, []).append(r)
        weights = np.bincount(picks, minlength=n)   # same resample, as weights: one fit per round
        for m, r in fit_bradley_terry(battles, weights=weights).items():
            bt_samples.setdefault(m, []).append(r)
    return elo_samples, bt_samples


def _interval(samples: list[float], point: float) -> tuple[float, float]:
    import numpy as np

    if not samples:
        return point, point
    low, high = np.percentile(samples, [2.5, 97.5])
    return float(min(low, point)), float(max(high, point))


def leaderboard(battles: list[Battle], rounds: int = ROUNDS, seed: int = 0) -> list[dict]:
    if not battles:
        return []
    elo, bt = compute_elo(battles), fit_bradley_terry(battles)
    elo_s, bt_s = _bootstrap(battles, rounds, seed) if rounds > 0 else ({}, {})
    tally = {m: Counter[str]() for m in bt}
    for a, b, winner in battles:
        tally[a]["battles"] += 1
        tally[b]["battles"] += 1
        if winner == "a":
            tally[a]["wins"] += 1
            tally[b]["losses"] += 1
        elif winner == "b":
            tally[b]["wins"] += 1
            tally[a]["losses"] += 1
        else:   # "tie" or "both_bad": each counted as itself, never as a win
            tally[a][TALLY[winner]] += 1
            tally[b][TALLY[winner]] += 1
    rows = []
    for m in bt:
        elo_low, elo_high = _interval(elo_s.get(m, []), elo[m])
        bt_low, bt_high = _interval(bt_s.get(m, []), bt[m])
        rows.append({"model": m, "elo": round(elo[m], 1), "elo_low": round(elo_low, 1),
                     "elo_high": round(elo_high, 1), "bt": round(bt[m], 1), "bt_low": round(bt_low, 1),
                     "bt_high": round(bt_high, 1), "battles": tally[m]["battles"], "wins": tally[m]["wins"],
                     "losses": tally[m]["losses"], "ties": tally[m]["ties"],
                     "both_bad": tally[m]["both_bad"]})
    return sorted(rows, key=lambda r: (-r["bt"], r["model"]))


def arena_leaderboard(store, rounds: int = ROUNDS, seed: int = 0) -> list[dict]:
    """Every model with votes, best Bradley-Terry rating first (the Compare page reads this);
    `imported` counts the battles brought from a FastChat file (pipeline.chat.fastchat_votes)."""
    from pipeline.chat.fastchat_votes import mark_imported

    return mark_imported(store, leaderboard(battles_from_votes(store.list_votes()), rounds=rounds, seed=seed))


def win_rate_matrix(battles: list[Battle]) -> tuple[list[str], list[list[float | None]]]:
    """rows[i][j] = share of decided battles between i and j that i won (None: they never met)."""
    models = sorted({m for a, b, _ in battles for m in (a, b)})
    wins: Counter = Counter()
    games: Counter = Counter()
    for a, b, winner in battles:
        if winner in ("a", "b"):
            games[(a, b)] += 1
            games[(b, a)] += 1
            wins[(a, b) if winner == "a" else (b, a)] += 1
    return models, [[wins[(r, c)] / games[(r, c)] if games[(r, c)] else None for c in models] for r in models]


def win_rate_figure(store):
    """A matplotlib heat map of the win-rate matrix (None when there are no votes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    models, matrix = win_rate_matrix(battles_from_votes(store.list_votes()))
    if not models:
        return None
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    size = 2.5 + 0.8 * len(models)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(data, cmap="RdYlGn", vmin=0, vmax=1)
    ax.set_xticks(range(len(models)), models, rotation=45, ha="right")
    ax.set_yticks(range(len(models)), models)
    for i in range(len(models)):
        for j in range(len(models)):
            if not np.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.0%}", ha="center", va="center", fontsize=9)
    ax.set_xlabel("against")
    ax.set_ylabel("model")
    ax.set_title("Win rate (ties left out)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    plt.close(fig)
    return fig


# Below this many battles a model's rating is shown as "too few votes", not as a number with an
# interval: bootstrap intervals over one or two votes look precise (1015.8 [1015.6, 1015.8]) while
# they mean nothing.
MIN_BATTLES = 10


def rating_text(value: float | None, low: float | None, high: float | None, battles: int) -> str:
    """'1042 [1003, 1080] · 35 battles', or '1016 · too few votes (2 of 10 battles)'."""
    if value is None:
        return ""
    if battles < MIN_BATTLES:
        return f"{value:.0f} · too few votes ({battles} of {MIN_BATTLES} battles)"
    interval = f" [{low:.0f}, {high:.0f}]" if low is not None and high is not None else ""
    return f"{value:.0f}{interval} · {battles} battles"
