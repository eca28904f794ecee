"""Bad input and failing runs: a clear message, the run marked failed with its reason, nothing
else disturbed (earlier checkpoints, other models, the store)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.train import TrainError
from pipeline.train.job import start_run
from tests.train_helpers import freeze_dataset, register_tiny, tiny_config


@pytest.fixture
def tiny(store, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    return store


def test_a_dataset_without_outputs_starts_nothing(tiny):
    freeze_dataset(tiny, rows=[("Describe nothing.", "   ")])
    with pytest.raises(TrainError, match="dataset is empty|no output"):
        start_run(tiny, tiny_config())
    assert tiny.list_runs() == [] and tiny.list_jobs() == []


def test_pairs_all_longer_than_max_length_start_nothing(tiny):
    freeze_dataset(tiny)
    with pytest.raises(TrainError, match="longer than max_length=32"):
        start_run(tiny, tiny_config(max_length=32))
    assert tiny.list_runs() == []


def test_a_base_model_whose_folder_is_gone_is_named(store, tiny_model_dir, tmp_path):
    gone = tmp_path / "gone"
    shutil.copytree(tiny_model_dir, gone)
    store.register_model("gone", "local", str(gone), template="alpaca")
    shutil.rmtree(gone)
    freeze_dataset(store)
    with pytest.raises(TrainError, match=f"points at {gone}, which does not exist"):
        start_run(store, tiny_config(base_model="gone"))


@pytest.mark.slow
def test_disk_full_while_saving_fails_the_run_with_the_reason(tiny):
    """The step-6 checkpoint's state file is /dev/full: the kernel answers ENOSPC to the write,
    exactly as a full disk does. The step-3 checkpoint stays registered, and the half-written
    step-6 folder is never taken for a finished checkpoint."""
    freeze_dataset(tiny)
    run = start_run(tiny, tiny_config(run_name="full-disk", max_steps=9, save_steps=3), spawn=False)
    target = Path(run["output_dir"]) / "checkpoint-6"
    target.mkdir(parents=True)
    os.symlink("/dev/full", target / "trainer_state.json")
    jobs.start(tiny, run["job_id"])
    job = jobs.wait(tiny, run["job_id"], timeout=400)
    failed = tiny.get_run(run["id"])
    assert job["status"] == "failed" and failed["status"] == "failed"
    assert failed["error"].startswith("disk full while saving a checkpoint") and "resume" in failed["error"]
    assert "disk full" in job["error"]
    assert [c["name"] for c in tiny.run_checkpoints(run["id"])] == ["full-disk-step3"]
    assert tiny.get_model("tiny")["path"]  # other models untouched
    from pipeline.train.entry import last_complete_checkpoint

    assert last_complete_checkpoint(Path(run["output_dir"])).endswith("checkpoint-3")


@pytest.mark.slow
def test_out_of_memory_is_reported_with_the_config_and_a_suggestion(tiny, monkeypatch):
    """A run that outgrows its memory cap fails with the settings that caused it and what to change."""
    freeze_dataset(tiny)
    monkeypatch.setenv("STUDIO_TRAIN_MEMORY_CAP_MB", "64")
    run = start_run(tiny, tiny_config(run_name="oom", method="full", batch_size=64, max_steps=2))
    job = jobs.wait(tiny, run["job_id"], timeout=400)
    failed = tiny.get_run(run["id"])
    assert job["status"] == "failed" and failed["status"] == "failed", jobs.tail_log(job["id"], 3000)
    assert failed["error"].startswith("out of memory with method=full batch_size=64")
    assert "try gradient_checkpointing=true, batch_size=32 with grad_accum=2" in failed["error"]
