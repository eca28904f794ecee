"""Strict verdict parsing: exact scores from well-formed replies; malformed, refusals and two
different verdicts are refused with a reason, never guessed."""
from __future__ import annotations

import pytest

from evals.judge.verdicts import VerdictError, parse_multi, parse_pairwise, parse_rubric, parse_single


def test_single_rating_is_read_exactly():
    reply = "The answer handles the empty list and matches the reference.\n\nRating: [[8.5]]"
    assert parse_single(reply) == {"score": 8.5}


def test_single_rating_repeated_identically_is_one_verdict():
    assert parse_single("Rating: [[7]]. To restate, my rating is [[7]].") == {"score": 7.0}


def test_two_different_ratings_are_refused():
    with pytest.raises(VerdictError, match=r"two different values for the rating .*4, 7"):
        parse_single("Rating: [[7]]\nOn reflection the bug is serious. Rating: [[4]]")


def test_a_refusal_is_named_as_such():
    with pytest.raises(VerdictError, match="refused"):
        parse_single("I'm unable to evaluate code that I cannot run.")


def test_a_rating_outside_the_scale_is_refused():
    with pytest.raises(VerdictError, match="outside 1–10"):
        parse_single("Rating: [[11]]")


def test_a_rating_without_the_brackets_is_not_guessed():
    with pytest.raises(VerdictError, match="no rating"):
        parse_single("I would give this answer a 7 out of 10.")


def test_pairwise_verdicts_and_tie():
    assert parse_pairwise("B handles the edge case. [[B]]") == "B"
    assert parse_pairwise("Both are equivalent. [[C]]") == "tie"


def test_pairwise_with_both_verdicts_is_refused():
    with pytest.raises(VerdictError, match="two different verdicts"):
        parse_pairwise("At first [[A]], but actually [[B]]")


def test_pairwise_unknown_label_is_refused():
    with pytest.raises(VerdictError, match=r"unknown verdict \[\[D\]\]"):
        parse_pairwise("[[D]]")


def test_multi_reads_every_system_with_its_reason():
    reply = "System A: 7/10 - correct but verbose\nSystem B: 3/10 — misses the empty case\nSystem C: 10/10: ideal"
    scores, reasons = parse_multi(reply, ["A", "B", "C"])
    assert scores == {"A": 7.0, "B": 3.0, "C": 10.0}
    assert reasons == {"A": "correct but verbose", "B": "misses the empty case", "C": "ideal"}


def test_multi_missing_a_system_is_refused():
    with pytest.raises(VerdictError, match="no score for System B"):
        parse_multi("System A: 7/10 - fine", ["A", "B"])


def test_multi_two_scores_for_one_system_is_refused():
    with pytest.raises(VerdictError, match="two different values for the score of System A"):
        parse_multi("System A: 7/10 - ok\nSystem B: 5/10 - meh\nSystem A: 2/10 - wait, wrong", ["A", "B"])


def test_multi_score_for_a_system_not_shown_is_refused():
    with pytest.raises(VerdictError, match="System C, which was not shown"):
        parse_multi("System A: 7/10\nSystem B: 5/10\nSystem C: 9/10", ["A", "B"])


def test_rubric_reads_both_axes():
    assert parse_rubric("Works.\nFunctionality: [[9]]\nVerbosity: [[6]]") == {"functionality": 9.0, "verbosity": 6.0}


def test_rubric_missing_an_axis_is_refused():
    with pytest.raises(VerdictError, match="no verbosity score"):
        parse_rubric("Functionality: [[9]]")


def test_multi_lines_without_reasons_are_read_one_per_line():
    from evals.judge.verdicts import parse_multi

    scores, reasons = parse_multi("System A: 7/10\nSystem B: 3/10", ["A", "B"])
    assert scores == {"A": 7.0, "B": 3.0} and reasons == {"A": "", "B": ""}
    scores, _ = parse_multi("**System A**: 9/10 — clear\n- System B = 2 / 10", ["A", "B"])
    assert scores == {"A": 9.0, "B": 2.0}
