"""Judging through the OpenAI Batch API: half price, results within 24h, the labeller's batch
machinery (pipeline.label.batchapi: submission with marker-based adoption, the polling loop,
result-file reading).

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

import json
import uuid

from evals.judge.requests import VerdictError, read_verdict
from pipeline.label import batchapi

CUSTOM_PREFIX = "judge-"


def index_of(custom_id: str | None) -> int | None:
    prefix, _, num = (custom_id or "").partition("-")
    return int(num) if prefix + "-" == CUSTOM_PREFIX and num.isdigit() else None


def run_batch_judging(store, run: dict, requests: list[dict], cfg, judge: dict, price, tally, judgment, api_key,
                      progress, log) -> str | None:
    """Judge `requests` through the Batch API: record and submit the batches the budget allows
    (by estimate), poll every open batch of the run until it ends, and store each batch's
    judgments as it ends. `judgment(req, fields, raw, attempts, t_in, t_out, cost, latency)`
    gives the row to store and the outcome to count. Returns 'budget' when the budget stopped
    the submission, else None."""
    from pipeline.errors import ConfigError
    from pipeline.label.cost import cost_of, count_message_tokens
    from pipeline.models.backends.openai_compat import client_for

    if judge.get("kind") != "openai":
        raise ConfigError("the Batch API needs an OpenAI-compatible endpoint judge")
    client = client_for(judge, api_key, max_retries=2, timeout=cfg.request_timeout_s)
    by_key = {r["key"]: r for r in requests}
    open_rows = store.judge_batches(run["id"], open_only=True)
    pending = {k for row in open_rows for k in row["request_keys"]}
    fresh: list[str] = []
    spent, stopped = tally.spent, None
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

    def report(waiting: int, done_there: int) -> None:
        progress(tally.done, tally.total, f"{waiting} batch(es) at the provider · {tally.message()}", force=True)

    batchapi.poll(client, [r["id"] for r in open_rows], get_row=store.get_judge_batch,
                  update_row=store.update_judge_batch, poll_s=cfg.batch_poll_s, report=report, log=log,
                  apply=lambda row, batch: _apply(store, client, run, row, batch, by_key, cfg, price, tally, judgment))
    return stopped


def _submit(store, client, judge, row, by_key, cfg, log) -> None:
    def lines() -> list[str]:
        return [json.dumps({"custom_id": f"{CUSTOM_PREFIX}{i}", "method": "POST", "url": batchapi.ENDPOINT,
                            "body": {"model": judge["path"], "messages": by_key[key]["messages"],
                                     "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature}})
                for i, key in enumerate(row["request_keys"])]

    batchapi.submit(client, row, lines, name="judge", metadata={"judge": judge["name"][:500]},
                    update_row=store.update_judge_batch, log=log, what="judge requests")


def _apply(store, client, run, row, batch, by_key, cfg, price, tally, judgment) -> None:
    """Every request's judgment (or failure) and the row's 'applied' mark, in one transaction
    (Store.apply_judge_batch); a batch applied already is not counted again."""
    from pipeline.label.cost import cost_of

    results = batchapi.batch_results(client, batch, index_of)
    written = []
    for i, key in enumerate(row["request_keys"]):
        req = by_key.get(key)
        if req is None:
            continue
        result = results.get(i) or {}
        response = result.get("response") or {}
        if not result or result.get("error") or response.get("status_code") != 200:
            error = (f"batch {batch.id} {batch.status} without a result for this request" if not result else
                     f"batch request failed (HTTP {response.get('status_code')})")
            written.append(judgment(req, {"status": "failed", "error": error}, None, 0, 0, 0, 0.0, None))
            continue
        body = response.get("body") or {}
        text = (((body.get("choices") or [{}])[0].get("message") or {}).get("content")) or ""
        usage = body.get("usage") or {}
        t_in, t_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
        try:
            fields = {"status": "ok", "error": None, **read_verdict(cfg.mode, req, text)}
        except VerdictError as exc:
            fields = {"status": "unparseable", "error": str(exc)}
        written.append(judgment(req, fields, text, 1, t_in, t_out, cost_of(price, t_in, t_out, batch=True), None))
    applied = store.apply_judge_batch(run["id"], row["id"], [(key, fields) for key, fields, _ in written],
                                      status="applied" if batch.status == "completed" else "failed",
                                      remote_status=batch.status, output_file_id=batch.output_file_id,
                                      error_file_id=batch.error_file_id)
    if applied:
        for _, _, outcome in written:
            tally.add(outcome)
