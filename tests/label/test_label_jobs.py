"""Labelling as a real job: SIGKILL mid-run and resume labels every snippet once and pays once."""
from __future__ import annotations

import json
import os
import signal

import pytest

from pipeline import jobs
from pipeline.label.labeller import LabelConfig, start_labelling
from tests.helpers import until
from tests.label_helpers import add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with LabelServer(latency_s=0.02) as s:
        yield s




def sigkill(store, job_id):
    job = store.get_job(job_id)
    os.killpg(job["pid"], signal.SIGKILL)
    until(lambda: not jobs.is_alive(job["pid"], job["pid_started"]), 10, "the job to die")


# A SIGKILL lands at a moment the test picks by polling; on a machine loaded far past its cores
# a reply can slip onto the wire between the poll and the kill. Seen once in ~20 runs at load 15.
@pytest.mark.flaky(reruns=2)
def test_sigkill_mid_run_then_resume_labels_each_snippet_once_and_pays_once(store, server):
    ids = add_snippets(store, 30)
    register_endpoint(store, server)
    server.hold_after = 12  # serve 12 replies, then hold every request on the wire
    job_id = start_labelling(store, LabelConfig(model="test-model", concurrency=4, request_timeout_s=30))
    # Kill when every delivered reply is stored and the only requests out are held ones.
    until(lambda: server.paid["requests"] >= 12 and server.held >= 1 and server.in_flight == server.held
          and len(label_pairs(store)) == server.paid["requests"], what="12 stored replies and held requests")
    sigkill(store, job_id)
    stored_before = len(label_pairs(store))
    server.hold_after = None
    server.release()  # the held requests now find their client gone: never paid
    assert jobs.supervise(store) == [job_id]
    jobs.resume(store, job_id)
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "done", jobs.tail_log(job_id)
    pairs = label_pairs(store)
    assert sorted(p["snippet_id"] for p in pairs) == ids and 12 <= stored_before < 30
    assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(30)}
    spend = store.label_spend(job_id)
    assert spend["requests"] == server.paid["requests"] == 30
    assert (spend["tokens_in"], spend["tokens_out"]) == (server.paid["tokens_in"], server.paid["tokens_out"])
    assert sum(p["tokens_in"] for p in pairs) == server.paid["tokens_in"]
    assert sum(p["tokens_out"] for p in pairs) == server.paid["tokens_out"]
    assert job["attempts"] == 2 and job["result"]["labelled"] == 30 - stored_before


def test_batch_job_killed_while_the_provider_works_polls_the_same_batch(store, server):
    ids = add_snippets(store, 8)
    register_endpoint(store, server)
    server.hold_batches = True
    job_id = start_labelling(store, LabelConfig(model="test-model", batch=True, batch_poll_s=0.2))
    until(lambda: any(b["status"] == "submitted" for b in store.label_batches(job_id=job_id)), what="a batch")
    sigkill(store, job_id)
    server.release_batches()
    jobs.supervise(store)
    jobs.resume(store, job_id)
    job = jobs.wait(store, job_id, timeout=120)
    assert job["status"] == "done", jobs.tail_log(job_id)
    assert server.batches_created == 1 and job["result"]["batches"] == ["batch_1"]
    assert sorted(p["snippet_id"] for p in label_pairs(store)) == ids
    spend = store.label_spend(job_id)
    assert (spend["tokens_in"], spend["tokens_out"]) == (server.batch_paid["tokens_in"], server.batch_paid["tokens_out"])


def test_a_session_key_reaches_the_job_and_is_stored_nowhere(store, server, studio_home):
    secret = "sk-session-secret-4242"
    add_snippets(store, 3)
    register_endpoint(store, server)
    server.require_key = secret
    job_id = start_labelling(store, LabelConfig(model="test-model"), api_key=secret)
    job = jobs.wait(store, job_id, timeout=60)
    assert job["status"] == "done" and job["result"]["labelled"] == 3, jobs.tail_log(job_id)
    assert secret not in json.dumps(job, default=str) and secret not in jobs.tail_log(job_id)
    store.close()
    for path in studio_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_cancel_keeps_replies_already_on_the_wire_and_resume_finishes(store, server):
    ids = add_snippets(store, 20)
    register_endpoint(store, server)
    server.latency_s = 0.3
    job_id = start_labelling(store, LabelConfig(model="test-model", concurrency=2))
    until(lambda: len(label_pairs(store)) >= 4, what="4 stored pairs")
    jobs.cancel(store, job_id)  # SIGTERM: requests in flight finish and are stored, no new ones start
    job = store.get_job(job_id)
    assert job["status"] == "cancelled" and not jobs.is_alive(job["pid"], job["pid_started"])
    assert server.paid["requests"] == len(label_pairs(store)) < 20
    jobs.resume(store, job_id)
    assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
    assert sorted(p["snippet_id"] for p in label_pairs(store)) == ids
    assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(20)}
