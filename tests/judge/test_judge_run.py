"""Judged evals end to end in-process, with the real `openai` client against the protocol-faithful
local server (tests/judge/judge_server.py): exact scores, retries, budget, unparseable replies kept
as such, a judge that never answers, and resume without paying twice."""
from __future__ import annotations

import pytest

from evals.judge.run import JudgeConfig, run_judging
from tests.judge.judge_server import FAST, JudgeServer, add_suite, register_models, shown_order


def run(store, **overrides):
    cfg = JudgeConfig(**{"judge": "judge", "contestants": ["alpha", "beta"], "suite": "judge-test",
                         "mode": "single", **FAST, **overrides}).validate()
    run_id = store.create_judge_run(cfg.suite, cfg.mode, cfg.judge, cfg.contestants, cfg.to_dict())
    return run_id, cfg, run_judging(store, run_id, cfg, log=lambda m: None)


def rate_by_author(prompt, attempt):
    return f"The answer is correct.\n\nRating: [[{8 if shown_order(prompt)[0] == 'beta' else 5}]]"


def test_single_scores_are_stored_exactly_with_prompt_raw_reply_and_tokens(store):
    with JudgeServer(rate_by_author) as server:
        register_models(store, server)
        add_suite(store, 4)
        run_id, _, result = run(store)
    assert result["models"] == {"alpha": {"score": 5.0, "judged": 4}, "beta": {"score": 8.0, "judged": 4}}
    rows = store.judgments(run_id)
    assert len(rows) == 8 and all(r["status"] == "ok" and r["judge"] == "judge" for r in rows)
    assert all(r["raw"].endswith("]]") and r["prompt"][1]["content"].startswith("[Category:") for r in rows)
    assert all(r["tokens_in"] > 0 and r["tokens_out"] > 0 and r["cost"] > 0 for r in rows)
    metrics = store.get_judge_run(run_id)["metrics"]
    assert metrics["bias"]["length_correlation"]["value"] == pytest.approx(1.0)   # beta: longer, scored higher
    assert metrics["categories"]["gdscript-godot4"] == {"alpha": 5.0, "beta": 8.0}


def test_order_dependent_judge_flips_every_pair(store):
    with JudgeServer(lambda prompt, attempt: "Assistant A is clearer. [[A]]") as server:
        register_models(store, server)
        add_suite(store, 3)
        run_id, _, result = run(store, mode="pairwise")
    bias = store.get_judge_run(run_id)["metrics"]["bias"]
    assert bias["flip_rate"] == {"value": 1.0, "n": 3}
    assert bias["first_position_win_rate"]["value"] == 1.0
    assert result["models"]["alpha"]["score"] == result["models"]["beta"]["score"] == 5.0   # all ties


def test_multi_system_order_is_shuffled_recorded_and_mapped_back(store):
    def by_position(prompt, attempt):  # scores the *author*, whatever position it is shown in
        order = shown_order(prompt)
        return "\n".join(f"System {'AB'[i]}: {9 if who == 'beta' else 2}/10 - reason" for i, who in enumerate(order))

    with JudgeServer(by_position) as server:
        register_models(store, server)
        add_suite(store, 6)
        run_id, _, result = run(store, mode="multi", seed=3)
    rows = store.judgments(run_id)
    assert {tuple(r["systems"]) for r in rows} == {("alpha", "beta"), ("beta", "alpha")}
    assert result["models"] == {"alpha": {"score": 2.0, "judged": 6}, "beta": {"score": 9.0, "judged": 6}}


def test_malformed_reply_is_asked_again_then_stored_as_unparseable(store):
    def flaky(prompt, attempt):
        if "TASK-0" in prompt:
            return "Rating: [[7]] … no wait, Rating: [[3]]"          # two scores, every time
        return "I cannot judge this." if attempt == 1 else "Rating: [[6]]"   # a refusal, then fine

    with JudgeServer(flaky) as server:
        register_models(store, server)
        add_suite(store, 2)
        run_id, _, result = run(store, parse_retries=2)
        paid_task0 = {k: v for k, v in server.paid_by_name.items() if k.startswith("TASK-0 judge")}
    bad = store.judgments(run_id, status="unparseable")
    assert len(bad) == 2 and all(r["attempts"] == 3 and "two different values" in r["error"] for r in bad)
    assert all(r["raw"] == "Rating: [[7]] … no wait, Rating: [[3]]" and r["scores"] is None for r in bad)
    assert sorted(paid_task0.values()) == [3, 3]                      # every attempt paid and counted
    ok = store.judgments(run_id, status="ok")
    assert len(ok) == 2 and all(r["attempts"] == 2 and r["scores"] for r in ok)
    assert result["counts"] == {"ok": 2, "unparseable": 2, "failed": 0}


def test_429_and_500_are_retried(store):
    with JudgeServer(rate_by_author) as server:
        register_models(store, server)
        add_suite(store, 2)
        server.faults["TASK-1 judge alpha"] = ["429", "500", "malformed"]
        server.retry_after_s = 0
        _run_id, _, result = run(store)
    assert result["counts"]["ok"] == 4 and len(server.attempts["TASK-1 judge alpha"]) == 4


def test_a_judge_that_never_answers_leaves_failed_rows_that_a_resume_asks_again(store):
    with JudgeServer(rate_by_author, timeout_sleep_s=1.5) as server:
        register_models(store, server)
        add_suite(store, 2)
        server.faults["TASK-0 judge beta"] = ["timeout"] * 3
        run_id, cfg, result = run(store, max_retries=2)
        failed = store.judgments(run_id, status="failed")
        assert result["counts"] == {"ok": 3, "unparseable": 0, "failed": 1}
        assert "gave up after 3 attempts: timed out" in failed[0]["error"]
        paid_before = dict(server.paid_by_name)
        again = run_judging(store, run_id, cfg, log=lambda m: None)   # the judge is back
    assert again["counts"] == {"ok": 4, "unparseable": 0, "failed": 0}
    assert {k: v - paid_before.get(k, 0) for k, v in server.paid_by_name.items() if v != paid_before.get(k, 0)} \
        == {"TASK-0 judge beta": 1}                                   # only the missing one was asked


def test_budget_stops_judging_and_a_resume_pays_for_nothing_twice(store):
    with JudgeServer(rate_by_author) as server:
        register_models(store, server, judge_price=(1000.0, 1000.0, 0.5))   # ~$0.3 per judgment
        add_suite(store, 6)
        run_id, cfg, result = run(store, budget_usd=1.0, concurrency=2)
        assert result["stopped"] == "budget" and store.get_judge_run(run_id)["status"] == "stopped"
        spent = store.judge_spend(run_id)
        assert 0 < spent["cost"] <= 1.0 and spent["judgments"] < 12
        first = dict(server.paid_by_name)
        cfg.budget_usd = 100.0
        again = run_judging(store, run_id, cfg, log=lambda m: None)
    assert again["counts"]["ok"] == 12
    judge_paid = {k: v for k, v in server.paid_by_name.items() if " judge " in k}
    assert judge_paid == {k: 1 for k in judge_paid} and len(judge_paid) == 12
    assert {k: v for k, v in first.items() if " answer" in k} == {k: v for k, v in server.paid_by_name.items()
                                                                  if " answer" in k}   # answers not redone


def test_batch_api_judges_at_the_batch_price_and_keeps_unparseable_replies(store):
    def verdict(prompt, attempt):
        return "Rating: [[2]] and also [[9]]" if "TASK-1" in prompt else rate_by_author(prompt, attempt)

    with JudgeServer(verdict) as server:
        register_models(store, server, judge_price=(1.0, 2.0, 0.5))
        add_suite(store, 3)
        run_id, cfg, result = run(store, batch=True, batch_poll_s=0.1)
        assert server.batches_created == 1 and server.batch_paid["requests"] == 6
        again = run_judging(store, run_id, cfg, log=lambda m: None)
        assert server.batches_created == 1   # a resume of a finished run submits nothing
    assert result["counts"] == again["counts"] == {"ok": 4, "unparseable": 2, "failed": 0}
    rows = store.judgments(run_id)
    for r in rows:   # the server shuffles its output lines: each verdict must still land on its request
        expected = 8.0 if r["systems"] == ["beta"] else 5.0
        assert r["status"] == "unparseable" or r["scores"] == {r["systems"][0]: expected}
        assert r["cost"] == pytest.approx((r["tokens_in"] * 1.0 + r["tokens_out"] * 2.0) / 1e6 * 0.5)
    assert store.judge_batches(run_id)[0]["status"] == "applied"


def test_estimate_counts_every_request_of_the_mode_and_sends_nothing(store, capsys):
    from evals.__main__ import main

    with JudgeServer(rate_by_author) as server:
        register_models(store, server, judge_price=(1.0, 2.0, 0.5))
        add_suite(store, 3)
        assert main(["judge", "estimate", "--judge", "judge", "--contestants", "alpha", "beta",
                     "--suite", "judge-test", "--mode", "pairwise"]) == 0
        assert server.requests == 0
    out = capsys.readouterr().out
    assert out.startswith("6 requests") and "$" in out   # 3 items x 1 pair x 2 orders


@pytest.mark.slow
def test_a_local_judge_is_batched_and_its_unparseable_replies_asked_again_then_kept(store, tiny_model_dir):
    # The tiny random model cannot follow the verdict format: every reply must be refused, not guessed.
    with JudgeServer(rate_by_author) as server:
        register_models(store, server)
        store.register_model("tiny-judge", "local", str(tiny_model_dir))
        add_suite(store, 2)
        run_id, _, result = run(store, judge="tiny-judge", parse_retries=1, max_new_tokens=8, concurrency=4,
                                constrain_verdicts=False)
    rows = store.judgments(run_id)
    assert result["counts"] == {"ok": 0, "unparseable": 4, "failed": 0}
    assert all(r["attempts"] == 2 and r["tokens_in"] > 0 and r["raw"] is not None and r["scores"] is None
               and r["judge"] == "tiny-judge" for r in rows)
    assert store.get_judge_run(run_id)["metrics"]["models"]["alpha"] == {"score": None, "judged": 0}


def test_rubric_syntax_column_comes_from_the_validity_checker_not_the_judge(store):
    def rubric(prompt, attempt):
        return "Works.\nFunctionality: [[9]]\nVerbosity: [[4]]" if "BETA" in prompt else "Functionality: [[6]]"

    with JudgeServer(rubric) as server:
        register_models(store, server)
        add_suite(store, 2)
        run_id, _, result = run(store, mode="rubric", parse_retries=0)
    models = store.get_judge_run(run_id)["metrics"]["models"]
    # Both contestants' fenced Python parses: syntax 10 for both, even alpha whose verdicts were unparseable.
    assert models["alpha"] == {"score": None, "judged": 0, "verbosity": None, "syntax": 10.0}
    assert models["beta"] == {"score": 9.0, "judged": 2, "verbosity": 4.0, "syntax": 10.0}
    assert result["counts"] == {"ok": 2, "unparseable": 2, "failed": 0}
    assert all(r["scores"]["syntax"] == 10.0 for r in store.judgments(run_id, status="ok"))


def test_code_is_taken_from_a_fence_even_when_the_answer_was_cut_before_closing_it():
    from evals.judge.run import extract_code

    assert extract_code("Here:\n```gdscript\nfunc f():\n\tpass\n```\nDone.") == "func f():\n\tpass\n"
    assert extract_code("Here:\n```gdscript\nfunc f():\n\tpass") == "func f():\n\tpass"
    assert extract_code("func f():\n\tpass") == "func f():\n\tpass"
