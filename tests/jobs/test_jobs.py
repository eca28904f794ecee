"""Jobs as real child processes: progress, SIGKILL → interrupted → resume, cancel without orphans.

The job kind used is the real first one, preparing the embedded default model."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from pipeline import jobs
from pipeline.models.default_model import DEFAULT_NAME, default_model_dir
from tests.helpers import until


def wait_until(predicate, timeout=120, poll=0.1):
    return until(predicate, timeout, "the condition", poll)


def group_members(pgid: int) -> list[int]:
    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return out


def test_unknown_kind_is_refused(store):
    with pytest.raises(jobs.JobError, match="unknown job kind 'nope'"):
        jobs.submit(store, "nope", {})


@pytest.mark.slow
def test_prepare_job_reports_progress_logs_and_registers(store, prepared_home):
    job_id = jobs.submit(store, "prepare_model", {"name": DEFAULT_NAME})
    job = jobs.wait(store, job_id, timeout=300)
    assert job["status"] == "done", jobs.tail_log(job_id)
    from pipeline.models import engine_of
    from pipeline.models.default_model import gguf_tools_present

    steps = 6 if gguf_tools_present() else 5   # with llama.cpp: a q8_0 GGUF for chat and evals
    assert (job["done"], job["total"]) == (steps, steps)
    assert job["result"]["model"] == DEFAULT_NAME and job["result"]["sample"].strip()
    assert store.get_model(DEFAULT_NAME)["path"] == str(default_model_dir())
    # The whole log: llama.cpp's quantizer writes a line per tensor after it.
    assert "registering" in jobs.log_path_for(job_id).read_text()
    if gguf_tools_present():
        assert engine_of(store.get_model(DEFAULT_NAME)) == {"engine": "llama.cpp", "quant": "q8_0"}
        assert engine_of(store.get_model(DEFAULT_NAME), "transformers")["engine"] == "transformers"


@pytest.mark.slow
def test_sigkilled_job_becomes_interrupted_and_resumes_to_done(store, studio_home):
    job_id = jobs.submit(store, "prepare_model", {"name": DEFAULT_NAME})
    wait_until(lambda: store.get_job(job_id)["done"] >= 1)  # mid-conversion
    pid = store.get_job(job_id)["pid"]
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not jobs.is_alive(pid, None))
    assert jobs.supervise(store) == [job_id]
    assert store.get_job(job_id)["status"] == "interrupted"
    assert not default_model_dir().exists()  # no half-written model folder was published
    jobs.resume(store, job_id)
    job = jobs.wait(store, job_id, timeout=300)
    assert job["status"] == "done", jobs.tail_log(job_id)
    assert job["attempts"] == 2
    assert store.get_model(DEFAULT_NAME)


@pytest.mark.slow
def test_cancel_kills_the_whole_group_and_leaves_no_orphan(store, studio_home):
    job_id = jobs.submit(store, "prepare_model", {"name": DEFAULT_NAME})
    wait_until(lambda: store.get_job(job_id)["status"] == "running" and store.get_job(job_id)["pid"])
    pid = store.get_job(job_id)["pid"]
    assert group_members(pid)
    job = jobs.cancel(store, job_id)
    assert job["status"] == "cancelled"
    wait_until(lambda: not group_members(pid), timeout=15)
    with pytest.raises(jobs.JobError, match="only queued or running"):
        jobs.cancel(store, job_id)


def test_resume_refuses_a_done_job(store):
    job_id = store.create_job("prepare_model", {})
    store.finish_job(job_id, "done")
    with pytest.raises(jobs.JobError, match="done"):
        jobs.resume(store, job_id)


def test_a_dead_pid_is_not_mistaken_for_a_live_job(store):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    job_id = store.create_job("prepare_model", {})
    store.mark_job_started(job_id, proc.pid, time.time(), "x.log")
    assert jobs.supervise(store) == [job_id]


def test_progress_records_rate_and_eta(store):
    job_id = store.create_job("prepare_model", {})
    store.mark_job_started(job_id, os.getpid(), psutil.Process().create_time(), "x.log")
    ctx = jobs.JobContext(store, job_id, {})
    ctx.progress(0, 100, "start", force=True)
    time.sleep(0.2)
    ctx.progress(20, message="working", force=True)
    job = store.get_job(job_id)
    assert job["done"] == 20 and job["total"] == 100 and job["rate"] > 0
    assert job["eta_s"] == pytest.approx(80 / job["rate"])
    assert jobs.format_progress(job).startswith("20/100")


def test_progress_raises_when_the_job_was_cancelled_elsewhere(store):
    job_id = store.create_job("prepare_model", {})
    store.mark_job_started(job_id, os.getpid(), psutil.Process().create_time(), "x.log")
    store.finish_job(job_id, "cancelled")
    with pytest.raises(jobs.JobCancelled):
        jobs.JobContext(store, job_id, {}).progress(1, 2, force=True)


def test_cli_reports_a_missing_job_clearly(studio_home):
    out = subprocess.run([sys.executable, "-m", "pipeline", "jobs", "show", "999"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "job 999 not found" in out.stderr or "jobs 999 not found" in out.stderr


def test_cli_lists_jobs(store):
    store.create_job("prepare_model", {}, "Prepare it")
    out = subprocess.run([sys.executable, "-m", "pipeline", "jobs", "list"], capture_output=True, text=True)
    assert out.returncode == 0 and "prepare_model" in out.stdout and "queued" in out.stdout


@pytest.mark.slow
def test_a_job_outlives_the_process_that_started_it(store, prepared_home):
    """The app (here: a short-lived process) submits a job and exits; the job finishes anyway,
    and a later app start does not mistake it for interrupted."""
    submitter = ("from pipeline import jobs; from pipeline.store import Store; "
                 f"print(jobs.submit(Store({str(store.path)!r}), 'prepare_model', {{}}))")
    out = subprocess.run([sys.executable, "-c", submitter], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.getcwd()))
    job_id = int(out.stdout.strip())
    wait_until(lambda: store.get_job(job_id)["status"] == "running")
    assert jobs.supervise(store) == []  # alive, though not our child
    assert jobs.wait(store, job_id, timeout=300)["status"] == "done"


def test_a_requeued_job_no_longer_shows_its_cancelling_message(store):
    job_id = store.create_job("prepare_model", {})
    store.mark_job_started(job_id, os.getpid(), time.time(), "x.log")
    store.request_cancel(job_id)
    assert "cancelling" in store.get_job(job_id)["message"]
    store.finish_job(job_id, "cancelled", error="cancelled by user")
    assert store.requeue_job(job_id)
    assert store.get_job(job_id)["message"].startswith("resumed")
