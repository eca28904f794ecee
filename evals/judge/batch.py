"""Judging through the OpenAI Batch API: half price, results within 24h, the labeller's batch
machinery (pipeline.label.batch: marker-based adoption, result-file reading, terminal states).

    python -m evals judge run --judge gpt-4o-mini --contestants base tuned --batch --wait

Each batch is recorded in `judge_batches` (its request keys, a marker also sent as batch metadata)
before anything is uploaded, and its id as soon as it is created; a resumed job polls the batches
it recorded, and one created in the instant before a crash is found again by its marker and
adopted. A batch's judgments are written in one transaction with the row's 'applied' mark, so
nothing is counted twice. An unparseable reply is stored as such without another attempt (that
would be another batch and another day); requests without a result are stored as failed and asked
again by the next run. The budget is checked by estimate, before submitting.
"""
from __future__ import annotations

import io
import json
import time
import uuid

from evals.judge.requests import VerdictError, read_verdict

CUSTOM_PREFIX = "judge-"


def index_of(custom_id: str | None) -> int | None:
    prefix, _, num = (custom_id or "").partition("-")
    return int(num) if prefix + "-" == CUSTOM_PREFIX and num.isdigit() else None


def run_batch_judging(store, run: dict, requests: list[dict], cfg, judge: dict, price, tally, record, api_key,
                      progress, log) -> str | None:
    from pipeline.errors import ConfigError
    from pipeline.label.cost import cost_of, count_message_tokens
    from pipeline.models.backends.openai_compat import client_for

    if judge.get("kind") != "openai":
        raise ConfigError("the Batch API needs an OpenAI-compatible endpoint judge")
    client = client_for(judge, api_key, max_retries=2, timeout=cfg.request_timeout_s)
    by_key = {r["key"]: r for r in requests}
    open_rows = store.judge_batches(run["id"], open_only=True)
    pending = {k for row in open_rows for k in row["request_keys"]}
    fresh, spent, stopped = [], tally.spent, None
    for req in (r for r in requests if r["key"] not in pending):
        spent += cost_of(price, count_message_tokens(req["messages"]), cfg.expected_output_tokens, batch=True)
        if cfg.budget_usd is not None and spent > cfg.budget_usd + 1e-12:
            stopped = "budget"
            log(f"the ${cfg.budget_usd:g} budget covers {len(fresh)} more requests by estimate")
            break
        fresh.append(req["key"])
    if fresh:
        open_rows.append(store.add_judge_batch(run["id"], f"studio-judge-{uuid.uuid4().hex}", fresh))
    tally.total = sum(len(r["request_keys"]) for r in open_rows)
    for row in open_rows:
        if row["status"] == "preparing":
            _submit(store, client, judge, row, by_key, cfg, log)
    waiting = {r["id"] for r in open_rows}
    while waiting:
        for row_id in sorted(waiting):
            row = store.get_judge_batch(row_id)
            batch = client.batches.retrieve(row["batch_id"])
            if batch.status != row["remote_status"]:
                store.update_judge_batch(row_id, remote_status=batch.status)
                log(f"batch {batch.id}: {batch.status}")
            if batch.status in ("completed", "failed", "expired", "cancelled"):
                _apply(store, client, row, batch, by_key, cfg, price, tally, record)
                waiting.discard(row_id)
        if waiting:
            deadline = time.monotonic() + cfg.batch_poll_s
            while time.monotonic() < deadline:  # short naps so a cancel is seen within a second
                progress(tally.done, tally.total, f"{len(waiting)} batch(es) at the provider · {tally.message()}",
                         force=True)
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return stopped


def _submit(store, client, judge, row, by_key, cfg, log) -> None:
    from pipeline.label.batch import ENDPOINT, find_batch_by_marker

    found = find_batch_by_marker(client, row["marker"])
    if found is not None:
        log(f"adopting batch {found.id}, created before the job stopped")
        store.update_judge_batch(row["id"], batch_id=found.id, input_file_id=found.input_file_id,
                                 status="submitted", remote_status=found.status)
        return
    lines = [json.dumps({"custom_id": f"{CUSTOM_PREFIX}{i}", "method": "POST", "url": ENDPOINT,
                         "body": {"model": judge["path"], "messages": by_key[key]["messages"],
                                  "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature}})
             for i, key in enumerate(row["request_keys"])]
    upload = client.files.create(file=(f"judge-{row['marker']}.jsonl", io.BytesIO("\n".join(lines).encode() + b"\n")),
                                 purpose="batch")
    store.update_judge_batch(row["id"], input_file_id=upload.id)
    batch = client.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
                                  metadata={"studio_marker": row["marker"], "judge": judge["name"][:500]})
    log(f"submitted batch {batch.id}: {len(lines)} judge requests")
    store.update_judge_batch(row["id"], batch_id=batch.id, status="submitted", remote_status=batch.status)


def _apply(store, client, row, batch, by_key, cfg, price, tally, record) -> None:
    """Every request's judgment (or failure) and the row's 'applied' mark, in one transaction."""
    from pipeline.label.batch import read_result_lines
    from pipeline.label.cost import cost_of

    results = read_result_lines(client, batch.error_file_id, index_of)
    results.update(read_result_lines(client, batch.output_file_id, index_of))
    outcomes = []
    with store.tx():
        if store.get_judge_batch(row["id"])["status"] not in ("preparing", "submitted"):
            return  # applied already: its judgments and costs are counted
        for i, key in enumerate(row["request_keys"]):
            req = by_key.get(key)
            if req is None:
                continue
            result = results.get(i) or {}
            response = result.get("response") or {}
            if not result or result.get("error") or response.get("status_code") != 200:
                error = (f"batch {batch.id} {batch.status} without a result for this request" if not result else
                         f"batch request failed (HTTP {response.get('status_code')})")
                outcomes.append(record(req, {"status": "failed", "error": error}, None, 0, 0, 0, 0.0, None))
                continue
            body = response.get("body") or {}
            text = (((body.get("choices") or [{}])[0].get("message") or {}).get("content")) or ""
            usage = body.get("usage") or {}
            t_in, t_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
            try:
                fields = {"status": "ok", "error": None, **read_verdict(cfg.mode, req, text)}
            except VerdictError as exc:
                fields = {"status": "unparseable", "error": str(exc)}
            outcomes.append(record(req, fields, text, 1, t_in, t_out, cost_of(price, t_in, t_out, batch=True), None))
        store.update_judge_batch(row["id"], status="applied" if batch.status == "completed" else "failed",
                                 remote_status=batch.status, output_file_id=batch.output_file_id,
                                 error_file_id=batch.error_file_id)
    for outcome in outcomes:
        tally.add(outcome)
