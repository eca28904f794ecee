"""Batch API mode against a local server: JSONL upload, poll, download, map back by custom_id."""
from __future__ import annotations

import io
import json
import math

import openai
import pytest

from pipeline.label.batch import request_line, submit_batch
from pipeline.label.labeller import LabelConfig, make_plan, run_labelling
from tests.label_helpers import add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer


@pytest.fixture
def server():
    with LabelServer() as s:
        yield s


def run(store, **settings):
    config = LabelConfig(model="test-model", batch=True, batch_poll_s=0.1, **settings)
    return run_labelling(store, config, log=lambda message: None)


def test_results_are_mapped_back_by_custom_id_at_the_batch_price(store, server):
    ids = add_snippets(store, 12)
    register_endpoint(store, server, price=(1.0, 2.0, 0.5))
    result = run(store)
    names = {s["id"]: s["name"] for s in store.db["snippets"].rows}
    pairs = label_pairs(store)
    assert [p["snippet_id"] for p in pairs] == ids and result["labelled"] == 12
    for p in pairs:  # the server shuffles its output lines
        assert f"named {names[p['snippet_id']]} " in p["instruction"] and p["status"] == "draft"
        assert math.isclose(p["cost"], (p["tokens_in"] * 1.0 + p["tokens_out"] * 2.0) / 1e6 * 0.5)
    spend = store.label_spend()
    assert (spend["tokens_in"], spend["tokens_out"]) == (server.batch_paid["tokens_in"], server.batch_paid["tokens_out"])
    assert result["batches"] == ["batch_1"] and server.batches_created == 1


def test_error_lines_and_bad_replies_become_failed_rows(store, server):
    add_snippets(store, 4)
    register_endpoint(store, server)
    server.faults.update({"snippet_1": ["500"], "snippet_2": ["code"]})
    result = run(store)
    rows = {p["snippet_id"]: p for p in label_pairs(store)}
    assert "HTTP 500" in rows[2]["error"] and rows[2]["status"] == "failed"
    assert "contains code" in rows[3]["error"] and rows[3]["status"] == "failed"
    assert (result["labelled"], result["failed"]) == (2, 2)
    assert store.label_batches()[0]["status"] == "applied"


def test_large_runs_are_split_into_several_batches(store, server):
    add_snippets(store, 10)
    register_endpoint(store, server)
    result = run(store, batch_max_requests=4)
    assert server.batches_created == 3 and len(result["batches"]) == 3
    assert [len(b["snippet_ids"]) for b in store.label_batches()] == [4, 4, 2]
    assert len(label_pairs(store)) == 10


def test_the_budget_limits_what_is_submitted(store, server):
    add_snippets(store, 10)
    register_endpoint(store, server, price=(1000.0, 1000.0, 0.5))
    result = run(store, budget_usd=0.5, expected_output_tokens=20)
    assert result["stopped"] == "budget" and "left unlabelled" in result["message"]
    submitted = len(store.label_batches()[0]["snippet_ids"])
    assert 0 < submitted < 10 and len(label_pairs(store)) == submitted and result["left"] == 10 - submitted


def test_a_batch_created_before_a_crash_is_adopted_not_paid_twice(store, server):
    add_snippets(store, 3)
    register_endpoint(store, server)
    plan = make_plan(store, LabelConfig(model="test-model", batch=True))
    row = store.add_label_batch(None, plan.labeller, plan.prompt_version, "studio-crashed", [s["id"] for s in plan.snippets])
    # what the crashed attempt sent before it could store the batch id:
    client = openai.OpenAI(base_url=server.base_url, api_key="x")
    body = "\n".join(json.dumps(request_line(plan, s)) for s in plan.snippets).encode()
    upload = client.files.create(file=("b.jsonl", io.BytesIO(body)), purpose="batch")
    created = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions",
                                    completion_window="24h", metadata={"studio_marker": "studio-crashed"})
    adopted = submit_batch(store, client, plan, row, log=lambda message: None)
    assert adopted["batch_id"] == created.id and adopted["status"] == "submitted"
    assert server.batches_created == 1
    result = run(store)
    assert server.batches_created == 1 and result["labelled"] == 3 and len(label_pairs(store)) == 3


def test_a_new_run_collects_the_open_batch_of_a_job_that_died(store, server):
    add_snippets(store, 3)
    register_endpoint(store, server)
    plan = make_plan(store, LabelConfig(model="test-model", batch=True))
    dead = store.create_job("label_batch", {})
    store.finish_job(dead, "interrupted", error="process ended without finishing")
    row = store.add_label_batch(dead, plan.labeller, plan.prompt_version, "studio-dead", [s["id"] for s in plan.snippets])
    client = openai.OpenAI(base_url=server.base_url, api_key="x")
    submit_batch(store, client, plan, row, log=lambda message: None)
    result = run(store)
    assert server.batches_created == 1 and result["labelled"] == 3 and result["batches"] == ["batch_1"]
    assert store.label_batches()[0]["status"] == "applied" and len(label_pairs(store)) == 3
