"""One run, one training at a time: a Jobs-tab resume of the run's old job and a Train-tab resume
(or two quick presses) never both train it; the device claim refuses the same run twice."""
from __future__ import annotations

import pytest

from pipeline import jobs
from pipeline.store import ConflictError
from pipeline.train import TrainError
from pipeline.train.job import resume_run


def interrupted_run(store, name="twice") -> tuple[dict, int]:
    """A run whose job was killed: the run is interrupted, its job too."""
    run = store.create_run(name, {}, status="interrupted", devices="cpu")
    job = store.create_job("train", {"run_id": run["id"]}, title=f"train {name}")
    store.update_run(run["id"], job_id=job)
    store.finish_job(job, "interrupted", error="killed")
    return store.get_run(run["id"]), job


def test_train_tab_resume_after_a_jobs_tab_resume_is_refused(store):
    run, old_job = interrupted_run(store)
    assert store.requeue_job(old_job)          # the Jobs tab's Resume (its child not started yet)
    with pytest.raises(TrainError, match="already being resumed"):
        resume_run(store, run["id"], spawn=False)
    assert [j["id"] for j in store.list_jobs() if j["kind"] == "train"] == [old_job]


def test_two_quick_resume_presses_queue_one_job(store):
    run, _ = interrupted_run(store)
    first = resume_run(store, run["id"], spawn=False)
    with pytest.raises(TrainError):
        resume_run(store, run["id"], spawn=False)
    assert store.get_run(run["id"])["job_id"] == first["job_id"]


def test_a_jobs_tab_resume_after_the_train_tab_is_refused(store):
    run, old_job = interrupted_run(store)
    new_job = resume_run(store, run["id"], spawn=False)["job_id"]
    with pytest.raises(TrainError, match="already being resumed"):
        jobs.resume(store, old_job)
    assert store.get_job(old_job)["status"] == "interrupted"
    assert store.get_run(run["id"])["job_id"] == new_job


def test_the_old_job_started_after_the_train_tab_ends_without_training(store):
    run, old_job = interrupted_run(store)
    new_job = resume_run(store, run["id"], spawn=False)["job_id"]
    assert store.requeue_job(old_job)          # a resume that raced past the checks:
    jobs.start(store, old_job)                 # a real child runs the train job body
    ended = jobs.wait(store, old_job, timeout=120)
    assert ended["status"] == "failed" and f"already being trained by job {new_job}" in ended["error"]
    after = store.get_run(run["id"])
    assert (after["status"], after["job_id"]) == ("queued", new_job)   # untouched: the new job trains it


def test_the_device_claim_refuses_the_same_run_twice(store):
    run, _ = interrupted_run(store)
    job = resume_run(store, run["id"], spawn=False)["job_id"]
    assert store.claim_run_for_job(run["id"], job) is None
    assert store.claim_devices(run["id"], "cpu", job_id=job) is None
    with pytest.raises(ConflictError, match="trains once at a time"):
        store.claim_devices(run["id"], "cpu", job_id=job)
    with pytest.raises(ConflictError):
        store.claim_devices(run["id"], "cpu")
    assert store.claim_run_for_job(run["id"], job + 1000) == job
