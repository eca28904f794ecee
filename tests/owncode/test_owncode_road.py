"""Issue 24, item 4: the whole road ends with the own-code steps — base, then tuned with the verdict.
The base step runs the real job on a tiny model over a dataset frozen from real repos."""
from __future__ import annotations

import pytest

from pipeline import jobs
from pipeline.pairs.export import freeze_dataset
from pipeline.quickstart.road import OWNCODE_STEPS, STEPS, QuickstartConfig, Road
from tests.owncode_helpers import curate_and_label, make_code_repos


def test_the_road_ends_with_the_own_code_verdict_after_humaneval():
    keys = [s.key for s in STEPS]
    assert keys[-2:] == ["owncode_base", "owncode_tuned"] and keys.index("eval_tuned") < keys.index("owncode_base")


def test_a_dataset_without_a_test_split_says_so_instead_of_scoring(store, tmp_path):
    from tests.pairs_helpers import add_pairs

    add_pairs(store, [{"instruction": "x", "output": "def x(): pass", "status": "approved"}])
    freeze_dataset(store, "quickstart", {"status": ["approved"]})
    road = Road(store, QuickstartConfig(source=str(tmp_path), base_model="tiny"))
    assert OWNCODE_STEPS[0].done(road).startswith("no held-out test split in quickstart@1")


@pytest.mark.slow
def test_the_base_step_scores_the_held_out_code_as_a_job(store, tmp_path, tiny_model_dir):
    curate_and_label(store, make_code_repos(tmp_path / "repos", repos=3))
    freeze_dataset(store, "quickstart", {"status": ["approved"]})
    store.register_model("tiny", "local", str(tiny_model_dir), template="alpaca")
    road = Road(store, QuickstartConfig(source=str(tmp_path), base_model="tiny"))
    assert OWNCODE_STEPS[0].done(road) is None
    job = jobs.wait(store, OWNCODE_STEPS[0].run(road), timeout=300)
    assert job["status"] == "done", job.get("error")
    assert OWNCODE_STEPS[0].done(road).startswith("own-code eval 1: chrF ")
