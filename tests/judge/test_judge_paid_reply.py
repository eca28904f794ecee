"""A paid judge reply that holds no verdict is stored before the re-ask: a cancel while the re-ask
waits keeps it (tokens and cost in the spend), and the resume never asks or pays for it again."""
from __future__ import annotations

import pytest

from evals.judge.run import JudgeConfig, start_judging
from pipeline import jobs
from tests.helpers import until
from tests.judge.judge_server import JudgeServer, add_suite, register_models

pytestmark = pytest.mark.slow

NAME = "TASK-0 judge alpha"


def no_verdict(prompt, attempt):
    return "Both look fine to me, hard to say."


def test_cancel_before_the_re_ask_keeps_the_paid_reply_and_the_resume_pays_nothing(store):
    with JudgeServer(no_verdict, retry_after_s=60) as server:
        register_models(store, server)
        add_suite(store, 1)
        server.faults[NAME] = [None, "429"]   # the re-ask is rate limited: it waits, the job is cancelled
        cfg = JudgeConfig(judge="judge", contestants=["alpha"], suite="judge-test", mode="single",
                          concurrency=1, request_timeout_s=5, backoff_max_s=60, parse_retries=2)
        run_id, job_id = start_judging(store, cfg)
        until(lambda: len(server.attempts.get(NAME, [])) >= 2, 60, "the re-ask to be refused with a 429")
        assert server.paid_by_name == {"TASK-0 answer": 1, NAME: 1}
        assert jobs.cancel(store, job_id)["status"] == "cancelled"
        [stored] = store.judgments(run_id)
        assert stored["status"] == "unparseable" and stored["attempts"] == 1 and stored["raw"] == no_verdict("", 0)
        assert stored["tokens_in"] > 0 and store.judge_spend(run_id)["cost"] > 0
        jobs.resume(store, job_id)
        assert jobs.wait(store, job_id, timeout=120)["status"] == "done", jobs.tail_log(job_id)
    assert server.paid_by_name == {"TASK-0 answer": 1, NAME: 1}      # nothing asked or paid twice
    assert store.get_judge_run(run_id)["metrics"]["counts"] == {"ok": 0, "unparseable": 1, "failed": 0}
