"""Length/quality filters, and cleaning as a real background job."""
from __future__ import annotations

import random

import pytest

from pipeline import jobs
from pipeline.clean.job import CleanConfig, run_clean
from pipeline.clean.quality import QualityThresholds, quality_flags
from tests.pairs_helpers import add_pairs, small_function

LIMITS = QualityThresholds()


@pytest.mark.parametrize("instruction, output, flag", [
    ("Hi", "def f():\n    return 1\n", "short_instruction"),
    ("Return the answer to everything", "42", "short_output"),
    ("Describe the blob", "x = '" + "a" * 2000 + "'", "long_line"),
    ("Describe the blob", "x" * 30000, "too_long"),
    ("Draw a box with characters", "+---+\n|   |\n+---+\n" * 3, "low_alnum"),
    ("Fix this:\n```\nx = 1\n```", "x = 2  # fixed value", "code_in_instruction"),
    ("Return the same text back", "Return the same text back", "echo"),
])
def test_each_filter_flags_its_case(instruction, output, flag):
    assert flag in quality_flags(instruction, "", output, LIMITS)


def test_a_good_pair_has_no_flags():
    code = small_function(random.Random(0))
    assert quality_flags("Update the player's score from the timer and velocity", "", code, LIMITS) == []


def test_filters_in_a_run_flag_rather_than_delete(store):
    ids = add_pairs(store, [{"instruction": "ok", "output": "def f():\n    return 1\n"},
                            {"instruction": "Compute the total of a list", "output": "def total(xs):\n    return sum(xs)\n"}])
    summary = run_clean(store, CleanConfig(exact_dedup=False, near_dedup=False, decontam=False), log=lambda m: None)
    assert summary["filter_flags"] == {"short_instruction": 1}
    assert store.get_pair(ids[0])["flags"] == ["short_instruction"] and store.get_pair(ids[1])["flags"] == []
    assert store.count_pairs() == 2
    run_clean(store, CleanConfig(exact_dedup=False, near_dedup=False, decontam=False, min_instruction_chars=1),
              log=lambda m: None)
    assert store.get_pair(ids[0])["flags"] == []


@pytest.mark.slow
def test_clean_runs_as_a_background_job_with_progress(store):
    rng = random.Random(5)
    code = small_function(rng)
    add_pairs(store, [{"instruction": f"Function number {i}", "output": small_function(rng)} for i in range(40)]
              + [{"instruction": "A copy", "output": code}, {"instruction": "Another copy", "output": code}])
    job_id = jobs.submit(store, "clean", {"suites": ["humaneval"], "near_threshold": 0.9})
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "done", job["error"]
    assert (job["done"], job["total"]) == (42, 42)
    assert job["result"]["duplicates"] == 1 and job["result"]["scanned"] == 42
    assert store.count_pairs({"flag": "duplicate"}) == 1


@pytest.mark.slow
def test_a_clean_job_with_bad_settings_fails_with_the_reason(store):
    job_id = jobs.submit(store, "clean", {"near_threshold": 3})
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "failed" and "near_threshold must be in (0, 1]" in job["error"]
