"""Judging as a real job (child process): SIGKILL with requests on the wire, then resume — every
judgment is stored once and paid once; the contestants' answers are not asked again."""
from __future__ import annotations

import os
import signal

import pytest

from evals.judge.run import JudgeConfig, start_judging
from pipeline import jobs
from tests.helpers import until
from tests.judge.judge_server import JudgeServer, add_suite, register_models, shown_order

pytestmark = pytest.mark.slow




def verdict(prompt, attempt):
    return f"Reasonable.\nRating: [[{8 if shown_order(prompt)[0] == 'beta' else 5}]]"


# A SIGKILL lands at a moment the test picks by polling; on a machine loaded far past its cores
# a reply can slip onto the wire between the poll and the kill. Seen once in ~20 runs at load 15.
@pytest.mark.flaky(reruns=2)
def test_sigkill_mid_judging_then_resume_judges_each_answer_once_and_pays_once(store):
    with JudgeServer(verdict, latency_s=0.02) as server:
        register_models(store, server)
        add_suite(store, 6)
        server.hold_after = 12 + 5   # 12 answers, 5 judgments, then every request is held on the wire
        cfg = JudgeConfig(judge="judge", contestants=["alpha", "beta"], suite="judge-test", concurrency=3,
                          request_timeout_s=30)
        run_id, job_id = start_judging(store, cfg)
        stored = lambda: len(store.judgments(run_id))
        until(lambda: server.paid["requests"] >= 17 and server.held >= 1 and server.in_flight == server.held
              and stored() == server.paid["requests"] - 12, what="5 stored judgments and held requests")
        job = store.get_job(job_id)
        os.killpg(job["pid"], signal.SIGKILL)
        until(lambda: not jobs.is_alive(job["pid"], job["pid_started"]), 10, "the job to die")
        stored_before = stored()
        server.hold_after = None
        server.release()   # the held requests find their client gone: never paid
        jobs.resume(store, job_id)
        job = jobs.wait(store, job_id, timeout=120)
        assert job["status"] == "done", jobs.tail_log(job_id)
    assert 5 <= stored_before < 12
    judged = {k: v for k, v in server.paid_by_name.items() if " judge " in k}
    assert len(judged) == 12 and set(judged.values()) == {1}
    assert {k: v for k, v in server.paid_by_name.items() if k.endswith(" answer")} == \
        {f"TASK-{i} answer": 2 for i in range(6)}                 # one per contestant, never again
    run = store.get_judge_run(run_id)
    assert run["status"] == "done" and run["metrics"]["counts"] == {"ok": 12, "unparseable": 0, "failed": 0}
    assert store.judge_spend(run_id)["judgments"] == 12


def test_cancel_marks_the_run_stopped_and_resume_finishes_it_paying_once(store):
    with JudgeServer(verdict, latency_s=0.3) as server:
        register_models(store, server)
        add_suite(store, 6)
        run_id, job_id = start_judging(store, JudgeConfig(judge="judge", contestants=["alpha", "beta"],
                                                          suite="judge-test", concurrency=2, request_timeout_s=5))
        until(lambda: len(store.judgments(run_id)) >= 3, what="3 stored judgments")
        jobs.cancel(store, job_id)   # requests on the wire finish and are stored; no new ones start
        run = store.get_judge_run(run_id)
        assert store.get_job(job_id)["status"] == "cancelled"
        assert run["status"] == "stopped" and "resume" in run["error"]
        assert len(store.judgments(run_id)) < 12
        jobs.resume(store, job_id)
        assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
    assert store.get_judge_run(run_id)["status"] == "done"
    judged = {k: v for k, v in server.paid_by_name.items() if " judge " in k}
    assert len(judged) == 12 and set(judged.values()) == {1}
