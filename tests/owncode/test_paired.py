"""Issue 24, item 3: the paired comparison's statistics as pure functions, against values worked
out by hand (in the comments)."""
from __future__ import annotations

import pytest

from evals.owncode.paired import (
    bootstrap_ci,
    paired_comparison,
    permutation_p,
    sign_test_p,
    verdict_sentence,
    win_tie_loss,
)


def test_sign_test_matches_the_binomial_by_hand():
    # 8 wins, 2 losses: 2 * (C(10,0) + C(10,1) + C(10,2)) / 2^10 = 2 * 56 / 1024
    assert sign_test_p(8, 2) == pytest.approx(112 / 1024)
    assert sign_test_p(5, 5) == 1.0 and sign_test_p(0, 0) == 1.0
    assert sign_test_p(6, 0) == pytest.approx(2 / 64)


def test_exact_permutation_test_counts_sign_patterns():
    # [1, 2, 3]: of the 8 sign patterns only +++ and --- reach |mean| >= 2
    assert permutation_p([1, 2, 3]) == pytest.approx(2 / 8)
    # six equal improvements: 2 of 64 patterns are as extreme
    assert permutation_p([2] * 6) == pytest.approx(2 / 64)
    # [1, -1]: the observed mean is 0, every pattern is as extreme
    assert permutation_p([1, -1]) == 1.0
    assert permutation_p([0, 0, 0]) == 1.0


def test_monte_carlo_permutation_never_says_zero():
    p = permutation_p([1.0] * 40, n_perm=999)
    assert p == pytest.approx(1 / 1000)


def test_bootstrap_interval_of_constant_and_of_spread_differences():
    assert bootstrap_ci([3, 3, 3]) == (3.0, 3.0)
    lo, hi = bootstrap_ci([0, 10] * 20)   # mean 5, se = 5 / sqrt(40) ~ 0.79: about 3.4 .. 6.6
    assert 3.0 < lo < 4.0 and 6.0 < hi < 7.0


def test_win_tie_loss():
    assert win_tie_loss([1, 0, -2, 0.5]) == (2, 1, 1)


def test_a_planted_difference_is_found_and_no_difference_is_not():
    base = [10, 20, 30, 40, 50, 60, 70, 80, 90, 15, 25, 35]
    tuned = [b + 5 + (i % 3) for i, b in enumerate(base)]          # +5..+7 on every item
    r = paired_comparison(base, tuned)
    assert r["significant"] and r["better"] == "b" and r["wins"] == 12 and r["diff"] == pytest.approx(6.0)
    assert r["ci"][0] > 0 and r["p"] < 0.001
    same = paired_comparison(base, [b + (1 if i % 2 else -1) for i, b in enumerate(base)])
    assert not same["significant"] and same["better"] is None


def test_lower_is_better_scores_flip_the_winner():
    r = paired_comparison([2.0] * 12, [1.5 + 0.01 * i for i in range(12)], higher_is_better=False)
    assert r["better"] == "b" and r["diff"] < 0


def test_sentences_say_who_wins_by_how_much_or_that_nothing_is_known():
    r = {"n": 40, "diff": 4.06, "ci": (1.94, 6.31), "p": 0.0004, "wins": 25, "ties": 5, "losses": 10,
         "enough_items": True, "significant": True, "better": "b"}
    assert verdict_sentence(r, "base", "tuned", "chrF") == (
        "tuned beats base on your held-out code: +4.1 chrF (95 % CI 1.9–6.3, p < 0.001; "
        "25 wins, 5 ties, 10 losses for tuned)")
    worse = dict(r, diff=-4.06, ci=(-6.31, -1.94), better="a", p=0.012)
    assert verdict_sentence(worse, "base", "tuned", "chrF").startswith(
        "base beats tuned on your held-out code: +4.1 chrF (95 % CI 1.9–6.3, p = 0.012")
    flat = dict(r, significant=False, better=None, diff=0.4, ci=(-1.2, 2.0), p=0.61)
    assert verdict_sentence(flat, "base", "tuned", "chrF").startswith(
        "no significant difference on 40 items in chrF (+0.4, 95 % CI -1.2–2.0, p = 0.610")
    few = dict(r, n=4, enough_items=False)
    assert verdict_sentence(few, "base", "tuned", "chrF").startswith("too few items to tell: 4 held-out item(s)")


def test_too_few_items_are_never_significant():
    r = paired_comparison([0, 0, 0], [100, 100, 100])
    assert not r["significant"] and not r["enough_items"]


def test_unpaired_lengths_are_refused():
    with pytest.raises(ValueError, match="same items"):
        paired_comparison([1, 2], [1])
