"""Batch API labelling: one JSONL of requests per batch, the provider works (within 24h, at its batch
discount), we download the output and error files and map each line back by its custom_id.

    python -m pipeline label run --model gpt-4o-mini --batch --wait

Resumable without paying twice. Each batch is recorded in `label_batches` before anything is
sent, with a marker that also goes into the batch's metadata; its id is stored as soon as it is
created. A resumed job polls the batches it recorded instead of submitting new ones (a new run
takes over the open batches of a job that is no longer running), and a batch created in the
instant before a crash (id not yet stored) is found again by its marker through `batches.list`
and adopted. Results of a batch are written in one transaction together with the
row's 'applied' mark, so a crash while applying leaves nothing half-counted. The budget can only
be checked by estimate here: snippets beyond what the estimate says fits are not submitted.
"""
from __future__ import annotations

import json
import uuid

from pipeline.label import batchapi
from pipeline.label.cost import cost_of, count_message_tokens, price_for
from pipeline.label.labeller import LabelConfig, Outcome, Plan, Tally, label_job, make_plan
from pipeline.label.replies import clean_reply
from pipeline.store import NotFoundError, StoreError

ENDPOINT = batchapi.ENDPOINT


def custom_id(snippet_id: int) -> str:
    return f"snippet-{snippet_id}"


def snippet_id_of(cid: str | None) -> int | None:
    prefix, _, num = (cid or "").partition("-")
    return int(num) if prefix == "snippet" and num.isdigit() else None


def request_line(plan: Plan, snippet: dict) -> dict:
    cfg = plan.config
    return {"custom_id": custom_id(snippet["id"]), "method": "POST", "url": ENDPOINT,
            "body": {"model": plan.model["path"], "messages": plan.messages(snippet),
                     "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature}}


def run_batch(store, config: LabelConfig, *, api_key=None, job_id=None, progress, log) -> dict:
    from pipeline.models.backends.openai_compat import client_for

    probe = make_plan(store, config)
    if probe.model.get("kind") != "openai":
        raise StoreError("the Batch API needs an OpenAI-compatible endpoint model")
    key = {"labeller": probe.labeller, "prompt_version": probe.prompt_version}
    open_rows = store.label_batches(open_only=True, **key)
    for row in open_rows:  # batches of a job that ended (killed, cancelled): collect them here
        if row["job_id"] != job_id and not _job_active(store, row["job_id"]):
            log(f"taking over batch row {row['id']} of job {row['job_id']}, which is no longer running")
            row.update(store.update_label_batch(row["id"], job_id=job_id))
    others = [r for r in open_rows if r["job_id"] != job_id]
    if others:
        log(f"{sum(len(r['snippet_ids']) for r in others)} snippets are in open batches of running job(s) "
            f"{sorted({r['job_id'] for r in others})}: left to them")
    plan = make_plan(store, config, exclude_ids={i for r in open_rows for i in r["snippet_ids"]})
    price = price_for(store, plan.model)
    if config.budget_usd is not None and price is None:
        raise StoreError(f"no price for {plan.model['path']!r}: add one to the prices table to use a budget")
    client = client_for(plan.model, api_key, max_retries=2, timeout=config.request_timeout_s)

    spent = store.label_spend(job_id)["cost"] if job_id else 0.0
    fits, stopped = _fit_budget(plan, price, spent)
    for start in range(0, len(fits), config.batch_max_requests):
        chunk = fits[start:start + config.batch_max_requests]
        store.add_label_batch(job_id, plan.labeller, plan.prompt_version, f"studio-{uuid.uuid4().hex}",
                              [s["id"] for s in chunk])
    mine = [r for r in store.label_batches(open_only=True, **key) if r["job_id"] == job_id]
    total = sum(len(r["snippet_ids"]) for r in mine)
    tally = Tally(total, spent)
    if stopped:
        log(f"the ${config.budget_usd:g} budget covers {len(fits)} of {len(plan.snippets)} snippets by estimate")
    for row in mine:
        if row["status"] == "preparing":
            submit_batch(store, client, plan, row, log)
    wait_and_apply(store, client, plan, price, mine, tally, job_id, config.batch_poll_s, progress, log)
    left = len(plan.snippets) - len(fits)
    result = tally.result(plan, stopped, batches=[store.get_label_batch(r["id"])["batch_id"] for r in mine])
    if stopped:
        result["left"] = left
        result["message"] = (f"stopped at the ${config.budget_usd:g} budget (by estimate): {left} snippets "
                             f"left unlabelled; raise the budget and run again to continue")
    progress(tally.done, tally.total, result["message"], force=True)
    log(result["message"])
    return result


def _job_active(store, job_id: int | None) -> bool:
    if job_id is None:
        return False
    try:
        return store.job_status(job_id) in ("queued", "running")
    except NotFoundError:
        return False


def _fit_budget(plan: Plan, price: dict | None, spent: float) -> tuple[list[dict], str | None]:
    """The prefix of snippets whose estimated batch cost fits what is left of the budget."""
    budget = plan.config.budget_usd
    if budget is None:
        return plan.snippets, None
    total = spent
    for i, snippet in enumerate(plan.snippets):
        total += cost_of(price, count_message_tokens(plan.messages(snippet)),
                         plan.config.expected_output_tokens, batch=True)
        if total > budget + 1e-12:
            return plan.snippets[:i], "budget"
    return plan.snippets, None


def submit_batch(store, client, plan: Plan, row: dict, log) -> dict:
    """Upload the requests and create the batch, or adopt the one already created for this row."""
    def lines() -> list[str]:
        snippets = store.snippets_by_id(row["snippet_ids"])
        return [json.dumps(request_line(plan, snippets[i])) for i in row["snippet_ids"] if i in snippets]

    return batchapi.submit(client, row, lines, name="label", update_row=store.update_label_batch, log=log,
                           metadata={"labeller": plan.labeller[:500], "prompt_version": plan.prompt_version[:500]})


def wait_and_apply(store, client, plan: Plan, price, rows: list[dict], tally: Tally, job_id, poll_s: float,
                   progress, log) -> None:
    """Poll the batches of `rows` until each has ended, applying each as it ends (apply_batch)."""
    def report(waiting: int, done_there: int) -> None:
        shown = min(tally.total, tally.done + done_there)
        progress(shown, tally.total, f"{waiting} batch(es) at the provider · {shown}/{tally.total} "
                                     f"requests done there · {tally.message()}", force=True)

    batchapi.poll(client, [r["id"] for r in rows], get_row=store.get_label_batch, update_row=store.update_label_batch,
                  apply=lambda row, batch: apply_batch(store, client, plan, price, row, batch, tally, job_id),
                  poll_s=poll_s, report=report, log=log)


def apply_batch(store, client, plan: Plan, price, row: dict, batch, tally: Tally, job_id) -> None:
    """Write every request's result (or failure) and mark the row applied, all in one transaction
    (Store.apply_label_batch); a batch another job applied first is not counted again."""
    results = batchapi.batch_results(client, batch, snippet_id_of)
    snippets = store.snippets_by_id(row["snippet_ids"])
    batch_error = "; ".join(e.message or "" for e in (batch.errors.data or [])) if batch.errors else ""
    written = [_result_of(plan, price, snippets[sid], results.get(sid), batch, batch_error, job_id)
               for sid in row["snippet_ids"] if sid in snippets]   # a snippet deleted since is skipped
    applied = store.apply_label_batch(
        row["id"], [(pair, call) for pair, call, _ in written],
        status="applied" if batch.status == "completed" else "failed", remote_status=batch.status,
        output_file_id=batch.output_file_id, error_file_id=batch.error_file_id, error=batch_error or None)
    if applied:
        for _, _, outcome in written:
            tally.add(outcome)


def _result_of(plan: Plan, price, snippet: dict, result: dict | None, batch, batch_error: str,
               job_id) -> tuple[dict, dict | None, Outcome]:
    """The label row, its ledger row (None when nothing was paid for) and the outcome of one
    request's line in a finished batch (None: the batch ended without a result for it)."""
    response = (result or {}).get("response") or {}
    if result is None or result.get("error") or response.get("status_code") != 200:
        if result is None:
            error = f"batch {batch.id} {batch.status} without a result for this request" + \
                (f" ({batch_error})" if batch_error else "")
        else:
            err = result.get("error") or (response.get("body") or {}).get("error") or {}
            error = f"batch request failed (HTTP {response.get('status_code')}): {err.get('message') or err}"
        return plan.pair(snippet, status="failed", error=error), None, Outcome(snippet["id"], False, error=error)
    body = response.get("body") or {}
    choices = body.get("choices") or [{}]
    text = ((choices[0].get("message") or {}).get("content")) or ""
    usage = body.get("usage") or {}
    t_in, t_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    cost = cost_of(price, t_in, t_out, batch=True)
    instruction, reason = clean_reply(text, snippet["code"])
    pair = plan.pair(snippet, instruction=instruction or "", status="draft" if instruction else "failed",
                     error=reason, raw_reply=text, tokens_in=t_in, tokens_out=t_out, cost=cost, latency_ms=None)
    call = {"job_id": job_id, "outcome": "ok" if instruction else "rejected", "batch": True,
            "tokens_in": t_in, "tokens_out": t_out, "cost": cost}
    return pair, call, Outcome(snippet["id"], bool(instruction), t_in, t_out, cost, reason)


def label_batch_job(ctx) -> dict:
    """Job kind "label_batch": the same job as "label", always in Batch API mode."""
    if not ctx.params.get("batch"):
        ctx.params = dict(ctx.params, batch=True)
    return label_job(ctx)

