"""Scores and bias figures from stored judgments, against hand-computed values."""
from __future__ import annotations

import pytest

from evals.judge.bias import pearson, summarize

ITEMS = [{"id": "t1", "category": "fix-bug"}, {"id": "t2", "category": "gdscript-godot4"}]


def j(item, systems, swapped=None, winner=None, scores=None, status="ok"):
    return {"item_id": item, "systems": systems, "swapped": swapped, "winner": winner, "scores": scores,
            "status": status}


def test_pearson_matches_a_hand_computed_value():
    # x = 1,2,3,4 ; y = 2,4,5,4 -> sxy 3.5, sxx 5, syy 4.75 -> r = 3.5 / sqrt(23.75) = 0.71819
    assert pearson([1, 2, 3, 4], [2, 4, 5, 4]) == pytest.approx(0.71819, abs=1e-4)
    assert pearson([1, 1, 1], [1, 2, 3]) is None


def test_flip_rate_and_tie_on_disagreement():
    run = {"mode": "pairwise", "judge": "judge", "contestants": ["a", "b"]}
    judgments = [
        j("t1", ["a", "b"], False, winner="a"), j("t1", ["b", "a"], True, winner="a"),   # consistent: a wins
        j("t2", ["a", "b"], False, winner="a"), j("t2", ["b", "a"], True, winner="b"),   # flips: tie
    ]
    answers = {("a", "t1"): "x" * 10, ("b", "t1"): "x" * 50, ("a", "t2"): "x" * 10, ("b", "t2"): "x" * 50}
    m = summarize(run, judgments, answers, ITEMS)
    assert m["bias"]["flip_rate"] == {"value": 0.5, "n": 2}
    assert m["bias"]["first_position_win_rate"]["value"] == 0.75          # 3 of 4 decisive verdicts
    assert m["bias"]["longer_answer_win_rate"]["value"] == 0.25           # b (longer) won 1 of 4
    assert m["models"]["a"]["score"] == 7.5 and m["models"]["b"]["score"] == 2.5   # win 1 + tie 0.5 of 2
    assert m["categories"] == {"fix-bug": {"a": 10.0, "b": 0.0}, "gdscript-godot4": {"a": 5.0, "b": 5.0}}


def test_length_correlation_and_self_preference_in_single_mode():
    run = {"mode": "single", "judge": "a", "contestants": ["a", "b"]}
    judgments = [j("t1", ["a"], scores={"a": 9}), j("t2", ["a"], scores={"a": 7}),
                 j("t1", ["b"], scores={"b": 4}), j("t2", ["b"], scores={"b": 6}),
                 j("t2", ["b"], scores=None, status="unparseable")]
    answers = {("a", "t1"): "x" * 40, ("a", "t2"): "x" * 30, ("b", "t1"): "x" * 10, ("b", "t2"): "x" * 20}
    m = summarize(run, judgments, answers, ITEMS)
    assert m["bias"]["length_correlation"]["value"] == pytest.approx(pearson([40, 30, 10, 20], [9, 7, 4, 6]))
    assert m["bias"]["self_preference"]["value"] == pytest.approx(8 - 5)
    assert m["counts"] == {"ok": 4, "unparseable": 1, "failed": 0}


def test_arena_agreement_counts_pairs_where_both_point_the_same_way():
    run = {"mode": "single", "judge": "j", "contestants": ["a", "b", "c"]}
    judgments = [j("t1", ["a"], scores={"a": 9}), j("t1", ["b"], scores={"b": 5}), j("t1", ["c"], scores={"c": 1})]
    votes = {("a", "b"): {"a": 3, "b": 1, "tie": 0}, ("b", "c"): {"a": 0, "b": 2, "tie": 1},
             ("a", "c"): {"a": 1, "b": 1, "tie": 0}}   # a-c is even in the arena: not counted
    m = summarize(run, judgments, {}, ITEMS, votes)
    assert m["bias"]["arena_agreement"]["value"] == 0.5 and m["bias"]["arena_agreement"]["n"] == 2
