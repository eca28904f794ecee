"""Labelling through a real openai client against a local server that adds latency and faults."""
from __future__ import annotations

import math

import pytest

from pipeline.label.labeller import LabelConfig, run_labelling
from pipeline.models import ModelError
from tests.label_helpers import FAST, add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer


@pytest.fixture
def server():
    with LabelServer(latency_s=0.01, timeout_sleep_s=1.5) as s:
        yield s


def run(store, api_key=None, **settings):
    config = LabelConfig(model="test-model", **{**FAST, **settings})
    return run_labelling(store, config, api_key=api_key, log=lambda message: None)


def by_name(store) -> dict[str, dict]:
    names = {s["id"]: s["name"] for s in store.db["snippets"].rows}
    return {names[p["snippet_id"]]: p for p in label_pairs(store)}


def test_every_snippet_gets_its_own_reply_with_tokens_cost_and_latency(store, server):
    ids = add_snippets(store, 24)
    register_endpoint(store, server, price=(1.0, 2.0, 0.5))
    result = run(store, concurrency=8)
    pairs = label_pairs(store)
    assert [p["snippet_id"] for p in pairs] == ids and result["labelled"] == 24
    for name, p in by_name(store).items():
        snippet = store.row("snippets", p["snippet_id"])
        assert f"named {name} " in p["instruction"] and p["output"] == snippet["code"] and p["input"] == ""
        assert (p["origin"], p["status"], p["labeller"], p["prompt_version"]) == ("label", "draft", "test-model",
                                                                                  "describe@1")
        assert p["raw_reply"] == p["instruction"] and p["tokens_in"] > 0 and p["tokens_out"] > 0
        assert math.isclose(p["cost"], (p["tokens_in"] * 1.0 + p["tokens_out"] * 2.0) / 1e6)
        assert p["latency_ms"] >= 10


def test_requests_are_in_flight_up_to_the_concurrency(store, server):
    server.latency_s = 0.2
    add_snippets(store, 16)
    register_endpoint(store, server)
    run(store, concurrency=8)
    assert server.max_in_flight == 8


def test_429_waits_for_retry_after_then_succeeds(store, server):
    server.retry_after_s = 1
    add_snippets(store, 3)
    register_endpoint(store, server)
    server.faults["snippet_1"] = ["429"]
    run(store)
    first, second = server.attempts["snippet_1"]
    assert second - first >= 1.0
    assert by_name(store)["snippet_1"]["status"] == "draft"


def test_500_malformed_json_and_timeouts_are_retried(store, server):
    add_snippets(store, 4)
    register_endpoint(store, server)
    server.faults.update({"snippet_0": ["500", "500"], "snippet_1": ["malformed"], "snippet_2": ["timeout"]})
    run(store, request_timeout_s=0.5, concurrency=4)
    pairs = by_name(store)
    assert all(p["status"] == "draft" for p in pairs.values()) and len(pairs) == 4
    assert [len(server.attempts[f"snippet_{i}"]) for i in range(3)] == [3, 2, 2]
    assert server.paid_by_name == {f"snippet_{i}": 1 for i in range(4)}  # the timed-out reply was never paid


def test_retries_exhausted_leave_a_visible_failed_row(store, server):
    add_snippets(store, 3)
    register_endpoint(store, server)
    server.faults["snippet_1"] = ["500"] * 3
    result = run(store, max_retries=2)
    failed = by_name(store)["snippet_1"]
    assert failed["status"] == "failed" and "gave up after 3 attempts" in failed["error"] and "500" in failed["error"]
    assert failed["instruction"] == "" and failed["output"].startswith("def snippet_1")
    assert (result["labelled"], result["failed"]) == (2, 1)
    assert [r["snippet_id"] for r in store.failed_labels("test-model")] == [failed["snippet_id"]]


def test_empty_and_code_replies_become_failed_rows_with_their_reason(store, server):
    add_snippets(store, 3)
    register_endpoint(store, server)
    server.faults.update({"snippet_0": ["empty"], "snippet_1": ["code"]})
    run(store)
    pairs = by_name(store)
    assert (pairs["snippet_0"]["status"], pairs["snippet_0"]["error"]) == ("failed", "empty reply")
    assert pairs["snippet_1"]["status"] == "failed" and "contains code" in pairs["snippet_1"]["error"]
    assert "def snippet_1" in pairs["snippet_1"]["raw_reply"]  # kept for review
    assert pairs["snippet_1"]["tokens_out"] > 0  # it was paid for, so it is counted
    assert pairs["snippet_2"]["status"] == "draft"


def test_retry_failed_relabels_only_the_failed_rows_in_place(store, server):
    add_snippets(store, 4)
    register_endpoint(store, server)
    server.faults["snippet_2"] = ["empty"]
    run(store)
    before = by_name(store)["snippet_2"]
    paid = server.paid["requests"]
    result = run(store, retry_failed=True)
    after = by_name(store)["snippet_2"]
    assert (result["labelled"], after["id"], after["status"]) == (1, before["id"], "draft")
    assert server.paid["requests"] == paid + 1 and store.count("pairs") == 4
    assert store.label_spend()["requests"] == server.paid["requests"]  # the rejected reply stays counted


def test_a_second_run_sends_nothing(store, server):
    add_snippets(store, 5)
    register_endpoint(store, server)
    run(store)
    requests = server.requests
    assert run(store)["labelled"] == 0 and server.requests == requests


def test_budget_stops_the_run_cleanly_and_leaves_the_rest_unlabelled(store, server):
    add_snippets(store, 10)
    register_endpoint(store, server, price=(1000.0, 1000.0, 0.5))
    one = run(store, limit=1)["cost"]
    budget = one * 4.5
    result = run(store, budget_usd=budget, concurrency=1, expected_output_tokens=15)
    assert result["stopped"] == "budget" and "left unlabelled" in result["message"]
    assert result["labelled"] == 4 and result["left"] == 5
    assert len(label_pairs(store)) == 5 and result["cost"] <= budget
    assert run(store)["labelled"] == 5  # raising the budget (here: none) finishes the rest


def test_a_rejected_key_stops_the_run_and_writes_nothing(store, server):
    add_snippets(store, 6)
    register_endpoint(store, server)
    server.require_key = "sk-right"
    with pytest.raises(ModelError, match="401") as refused:
        run(store, api_key="sk-wrong-key")
    assert "sk-wrong-key" not in str(refused.value)  # the server echoed it; the error that is stored must not
    assert label_pairs(store) == []
    assert run(store, api_key="sk-right")["labelled"] == 6


def test_the_key_can_come_from_the_model_env_var(store, server, monkeypatch):
    add_snippets(store, 2)
    register_endpoint(store, server, api_key_env="LABEL_TEST_KEY")
    server.require_key = "sk-from-env"
    monkeypatch.setenv("LABEL_TEST_KEY", "sk-from-env")
    assert run(store)["labelled"] == 2


def test_progress_reports_count_rate_eta_tokens_and_dollars(store, server):
    add_snippets(store, 6)
    register_endpoint(store, server)
    seen = []
    config = LabelConfig(model="test-model", **FAST)
    run_labelling(store, config, progress=lambda done, total, message, force=False: seen.append((done, total, message)),
                  log=lambda message: None)
    assert seen[0][:2] == (0, 6) and seen[-1][:2] == (6, 6)
    during = seen[-2][2]
    for part in ("6/6", "6 labelled", "0 failed", "/s", "ETA", "tokens", "$"):
        assert part in during, (part, during)
    assert seen[-1][2] == "6 labelled, 0 failed"
