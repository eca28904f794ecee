"""The job state machine under faults (issue 10, failures 1-4): real labelling jobs as child
processes against the local OpenAI-compatible server, one fault per test, each asserting the
final state, what was paid for, and that the job can still be used after."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psutil
import pytest

from pipeline import jobs
from pipeline.label.labeller import LabelConfig, start_labelling
from tests.helpers import until
from tests.label_helpers import add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with LabelServer(latency_s=0.02) as s:
        yield s




def label_job(store, n=3, **cfg) -> int:
    """A queued labelling job whose child is not started yet."""
    add_snippets(store, n)
    return store.create_job("label", asdict(LabelConfig(model="test-model", **cfg)), "label")


def test_a_queued_job_cancelled_before_its_child_claims_it_never_runs(store, server):
    """Failure 1: a job cancelled while still queued came back, ran and ended done."""
    register_endpoint(store, server)
    job_id = label_job(store)
    assert jobs.cancel(store, job_id)["status"] == "cancelled"
    proc = jobs.start(store, job_id)  # the child that was about to start when the cancel came
    proc.wait(timeout=60)
    job = store.get_job(job_id)
    assert (job["status"], job["attempts"], server.requests) == ("cancelled", 0, 0)
    assert "another process claimed or cancelled it" in jobs.tail_log(job_id)
    jobs.resume(store, job_id)  # still usable: a resume runs it once
    assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)


def test_two_resumes_at_once_start_one_child_and_pay_once(store, server):
    """Failure 2: two Resume clicks started two children that both sent paid requests."""
    register_endpoint(store, server)
    job_id = label_job(store, 6, concurrency=2)
    store.finish_job(job_id, "interrupted", only_if=("queued",))
    barrier, outcomes = threading.Barrier(2), []

    def click():
        barrier.wait()
        try:
            outcomes.append(jobs.resume(store, job_id)["id"])
        except jobs.JobError as exc:
            outcomes.append(str(exc))

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert outcomes.count(job_id) == 1 and any("just resumed by someone else" in str(o) or "already" in str(o)
                                                for o in outcomes)
    job = jobs.wait(store, job_id, timeout=120)
    assert (job["status"], job["attempts"]) == ("done", 1), jobs.tail_log(job_id)
    assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(6)}


def test_two_children_for_one_queued_job_run_it_once(store, server):
    register_endpoint(store, server)
    job_id = label_job(store, 4)
    first, second = jobs.start(store, job_id), jobs.start(store, job_id)
    first.wait(timeout=120), second.wait(timeout=120)
    job = store.get_job(job_id)
    assert (job["status"], job["attempts"]) == ("done", 1)
    assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(4)}


def test_a_child_killed_by_sigkill_is_shown_interrupted_within_seconds(store, server):
    """Failure 3: a SIGKILLed child stayed `running` for as long as the app ran."""
    add_snippets(store, 3)
    register_endpoint(store, server)
    server.hold_after = 1
    job_id = start_labelling(store, LabelConfig(model="test-model", concurrency=1))
    until(lambda: server.held >= 1, what="a request on the wire")
    jobs.start_supervisor(store, every_s=0.5)  # what the app runs
    os.killpg(store.get_job(job_id)["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    until(lambda: store.job_status(job_id) == "interrupted", timeout=5, what="interrupted")
    assert time.monotonic() - killed_at < 5
    server.hold_after = None
    server.release()


def test_a_child_that_dies_before_claiming_is_reaped(store, studio_home):
    job_id = store.create_job("label", {"model": "x"}, "label")
    # The child cannot open its database, so it dies before it can claim the job.
    proc = jobs.start(store, job_id, env={"STUDIO_DB": "/proc/no/such/dir/x.db"})
    proc.wait(timeout=60)
    assert jobs.supervise(store) == [job_id]
    job = store.get_job(job_id)
    assert job["status"] == "interrupted" and "ended before it started" in job["error"]


def test_finished_children_leave_no_zombies(store, server):
    """Failure 3: every finished job left a zombie under the app."""
    register_endpoint(store, server)
    add_snippets(store, 5)
    ids = [jobs.submit(store, "label", asdict(LabelConfig(model="test-model", limit=1 + i)), "label")
           for i in range(5)]
    for job_id in ids:
        jobs.wait(store, job_id, timeout=120)
    until(lambda: not jobs.live_children(), timeout=10, what="children reaped")
    zombies = [c for c in psutil.Process().children() if c.status() == psutil.STATUS_ZOMBIE]
    assert zombies == []


def test_cancel_lets_paid_requests_finish_and_stores_them(store):
    """Failure 4: cancel SIGKILLed a labelling job after 5 s while its requests took longer, so
    replies already paid for were lost and paid again on resume."""
    with LabelServer(latency_s=7.0) as server:
        add_snippets(store, 4)
        register_endpoint(store, server)
        job_id = start_labelling(store, LabelConfig(model="test-model", concurrency=2, request_timeout_s=20))
        until(lambda: server.in_flight == 2, what="two requests on the wire")
        job = jobs.cancel(store, job_id)  # cooperative: the grace is the request timeout
        assert job["status"] == "cancelled"
        assert server.paid["requests"] == len(label_pairs(store)) == 2
        server.latency_s = 0.02
        jobs.resume(store, job_id)
        assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
        assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(4)}


def test_a_job_that_cannot_cooperate_is_killed_after_its_grace(store, server):
    add_snippets(store, 2)
    register_endpoint(store, server)
    job_id = start_labelling(store, LabelConfig(model="test-model", concurrency=1, request_timeout_s=1))
    until(lambda: store.get_job(job_id)["status"] == "running", what="running")
    pid = store.get_job(job_id)["pid"]
    os.kill(pid, signal.SIGSTOP)  # frozen: it can never see the cancel request
    began = time.monotonic()
    job = jobs.cancel(store, job_id)
    took = time.monotonic() - began
    assert job["status"] == "cancelled" and "after the grace period" in job["error"]
    assert 1 + jobs.REQUEST_GRACE_MARGIN_S <= took < 1 + jobs.REQUEST_GRACE_MARGIN_S + jobs.KILL_GRACE_S + 3
    assert not jobs.is_alive(pid, None)
    jobs.resume(store, job_id)  # what it stored before stays; the rest is labelled once
    assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
    assert server.paid_by_name == {"snippet_0": 1, "snippet_1": 1}


def test_a_resume_can_be_given_the_session_key_again(store, server, studio_home):
    """Failure 4: a resume from the Jobs tab could not be given the session key, so it got 401."""
    secret = "sk-session-secret-7373"
    server.require_key = secret
    register_endpoint(store, server)
    job_id = label_job(store, 3)
    store.finish_job(job_id, "interrupted", only_if=("queued",))
    other = store.create_job("prepare_model", {})
    store.finish_job(other, "failed", only_if=("queued",))
    with pytest.raises(jobs.JobError, match="take no API key"):
        jobs.resume(store, other, api_key=secret)
    jobs.resume(store, job_id, api_key=secret)
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "done" and job["result"]["labelled"] == 3, jobs.tail_log(job_id)
    store.close()
    for path in studio_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_the_cli_resumes_with_a_key_read_from_a_named_variable(store, server, studio_home):
    secret = "sk-cli-secret-9191"
    server.require_key = secret
    register_endpoint(store, server)
    job_id = label_job(store, 2)
    store.finish_job(job_id, "interrupted", only_if=("queued",))
    env = dict(os.environ, STUDIO_HOME=str(studio_home), MY_LABEL_KEY=secret)
    out = subprocess.run([sys.executable, "-m", "pipeline", "jobs", "resume", str(job_id), "--key-from-env",
                          "MY_LABEL_KEY"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
    missing = subprocess.run([sys.executable, "-m", "pipeline", "jobs", "resume", str(job_id), "--key-from-env",
                              "NOT_SET_ANYWHERE"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and missing.stderr.startswith("error: --key-from-env NOT_SET_ANYWHERE")
    assert secret not in json.dumps(store.get_job(job_id), default=str)
