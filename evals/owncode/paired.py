"""Paired comparison of two models on the same items, with its confidence: pure functions.

    r = paired_comparison(base_scores, tuned_scores)            # same items, same order
    r["diff"], r["ci"], r["p"], (r["wins"], r["ties"], r["losses"])
    verdict_sentence(r, "base", "tuned", "chrF")
    # 'tuned beats base on your held-out code: +4.1 chrF (95 % CI 1.9–6.3, p = 0.001; 31 wins, 4 ties, 15 losses)'

- The difference is the mean of per-item differences (B − A): pairing removes the spread between
  easy and hard items, which dwarfs the difference between two models of one family.
- Its interval is the paired bootstrap (resample items with replacement, percentile interval).
- Its p-value is the paired permutation (sign-flip) test of the mean difference: exact over all
  2^n sign patterns up to EXACT_UP_TO items, else Monte Carlo with the (1 + hits)/(1 + draws)
  correction so p is never 0. The sign test (wins vs losses, ties dropped) is reported beside it.
- A difference is declared only when p < alpha AND the interval excludes 0, and only with at
  least MIN_ITEMS items; fewer is shown as "too few items to tell", never as a result.
benchmarks/verdict.py measures the false-alarm rate and the power of this rule by simulation.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

ALPHA = 0.05
MIN_ITEMS = 10
EXACT_UP_TO = 16
BOOTSTRAP = 4000
PERMUTATIONS = 10000


def differences(a: list[float], b: list[float], higher_is_better: bool = True) -> np.ndarray:
    """Per-item improvement of B over A (positive = B better), in the score's own units."""
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same items: {len(a)} vs {len(b)}")
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return d if higher_is_better else -d


def win_tie_loss(diffs, tol: float = 1e-9) -> tuple[int, int, int]:
    d = np.asarray(diffs, dtype=float)
    return int((d > tol).sum()), int((np.abs(d) <= tol).sum()), int((d < -tol).sum())


def bootstrap_ci(diffs, level: float = 0.95, n_boot: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean difference over resampled items."""
    d = np.asarray(diffs, dtype=float)
    if len(d) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def permutation_p(diffs, n_perm: int = PERMUTATIONS, seed: int = 0) -> float:
    """Two-sided sign-flip test of mean(diffs) = 0."""
    d = np.asarray(diffs, dtype=float)
    if len(d) == 0 or not np.any(d):
        return 1.0
    observed = abs(d.mean()) - 1e-12   # ties with the observed statistic count as extreme
    if len(d) <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
        return float((np.abs((signs * d).mean(axis=1)) >= observed).mean())
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_perm, 2000):
        signs = rng.choice((1.0, -1.0), size=(min(2000, n_perm - start), len(d)))
        hits += int((np.abs((signs * d).mean(axis=1)) >= observed).sum())
    return (1 + hits) / (1 + n_perm)


def sign_test_p(wins: int, losses: int) -> float:
    """Exact two-sided binomial test of wins vs losses (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_comparison(a: list[float], b: list[float], higher_is_better: bool = True, *,
                      alpha: float = ALPHA, seed: int = 0, n_boot: int = BOOTSTRAP,
                      n_perm: int = PERMUTATIONS) -> dict:
    """Everything a verdict needs about B vs A on paired items."""
    d = differences(a, b, higher_is_better)
    wins, ties, losses = win_tie_loss(d)
    n = len(d)
    raw = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    ci = bootstrap_ci(raw, 1 - alpha, n_boot, seed) if n else (math.nan, math.nan)
    p = permutation_p(d, n_perm, seed)
    enough = n >= MIN_ITEMS
    excludes_zero = n > 0 and (ci[0] > 0 or ci[1] < 0)
    significant = bool(enough and p < alpha and excludes_zero)
    return {"n": n, "mean_a": float(np.mean(a)) if n else math.nan, "mean_b": float(np.mean(b)) if n else math.nan,
            "diff": float(raw.mean()) if n else math.nan, "ci": ci, "p": p, "p_sign": sign_test_p(wins, losses),
            "wins": wins, "ties": ties, "losses": losses, "higher_is_better": higher_is_better,
            "enough_items": enough, "significant": significant,
            "better": ("b" if d.mean() > 0 else "a") if significant else None}


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict_sentence(r: dict, name_a: str, name_b: str, metric: str, *, where: str = "your held-out code",
                     digits: int = 1) -> str:
    """The comparison said in words, the way the Compare page and the CLI print it."""
    counts = f"{r['wins']} wins, {r['ties']} ties, {r['losses']} losses for {name_b}"
    if not r["enough_items"]:
        return (f"too few items to tell: {r['n']} held-out item(s) (at least {MIN_ITEMS} needed); "
                f"freeze a dataset with a bigger test split")
    if not r["significant"]:
        return (f"no significant difference on {r['n']} items in {metric} "
                f"({r['diff']:+.{digits}f}, 95 % CI {r['ci'][0]:.{digits}f}–{r['ci'][1]:.{digits}f}, "
                f"{_p_text(r['p'])}; {counts})")
    winner, loser = (name_b, name_a) if r["better"] == "b" else (name_a, name_b)
    diff, (lo, hi) = r["diff"], r["ci"]
    if r["better"] == "a":   # say it from the winner's side
        diff, lo, hi = -diff, -hi, -lo
    return (f"{winner} beats {loser} on {where}: {diff:+.{digits}f} {metric} "
            f"(95 % CI {lo:.{digits}f}–{hi:.{digits}f}, {_p_text(r['p'])}; {counts})")
