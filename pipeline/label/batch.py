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

import io
import json
import time
import uuid

from pipeline.label.cost import cost_of, count_message_tokens, price_for
from pipeline.label.labeller import LabelConfig, Outcome, Plan, Tally, label_job, make_plan
from pipeline.label.replies import clean_reply
from pipeline.store import NotFoundError, StoreError

TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = "/v1/chat/completions"


def custom_id(snippet_id: int) -> str:
    return f"snippet-{snippet_id}"


def snippet_id_of(cid: str) -> int | None:
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


def find_batch_by_marker(client, marker: str, look_at: int = 1000):
    """A batch we created but whose id we never stored (crash right after create)."""
    for i, batch in enumerate(client.batches.list(limit=100)):
        if (batch.metadata or {}).get("studio_marker") == marker:
            return batch
        if i + 1 >= look_at:
            break
    return None


def submit_batch(store, client, plan: Plan, row: dict, log) -> dict:
    """Upload the requests and create the batch, or adopt the one already created for this row."""
    found = find_batch_by_marker(client, row["marker"])
    if found is not None:
        log(f"adopting batch {found.id}, created before the job stopped")
        return store.update_label_batch(row["id"], batch_id=found.id, input_file_id=found.input_file_id,
                                        status="submitted", remote_status=found.status)
    snippets = store.snippets_by_id(row["snippet_ids"])
    lines = [json.dumps(request_line(plan, snippets[i])) for i in row["snippet_ids"] if i in snippets]
    upload = client.files.create(file=(f"label-{row['marker']}.jsonl", io.BytesIO("\n".join(lines).encode() + b"\n")),
                                 purpose="batch")
    store.update_label_batch(row["id"], input_file_id=upload.id)
    batch = client.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
                                  metadata={"studio_marker": row["marker"], "labeller": plan.labeller[:500],
                                            "prompt_version": plan.prompt_version[:500]})
    log(f"submitted batch {batch.id}: {len(lines)} requests")
    return store.update_label_batch(row["id"], batch_id=batch.id, status="submitted", remote_status=batch.status)


def wait_and_apply(store, client, plan: Plan, price, rows: list[dict], tally: Tally, job_id, poll_s: float,
                   progress, log) -> None:
    waiting = {r["id"] for r in rows}
    while waiting:
        counts = 0
        for row_id in sorted(waiting):
            row = store.get_label_batch(row_id)
            batch = client.batches.retrieve(row["batch_id"])
            if batch.status != row["remote_status"]:
                store.update_label_batch(row_id, remote_status=batch.status)
                log(f"batch {batch.id}: {batch.status}")
            if batch.status in TERMINAL:
                apply_batch(store, client, plan, price, row, batch, tally, job_id)
                waiting.discard(row_id)
            elif batch.request_counts:
                counts += batch.request_counts.completed + batch.request_counts.failed
        if not waiting:
            break
        shown = min(tally.total, tally.done + counts)
        deadline = time.monotonic() + poll_s
        while time.monotonic() < deadline:  # short naps so a cancel is seen within a second
            progress(shown, tally.total, f"{len(waiting)} batch(es) at the provider · {shown}/{tally.total} "
                                         f"requests done there · {tally.message()}", force=True)
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def read_result_lines(client, file_id: str | None, key_of=snippet_id_of) -> dict:
    """A batch output or error file as {key_of(custom_id): line}; the judge passes its own key_of."""
    if not file_id:
        return {}
    out = {}
    for line in client.files.content(file_id).text.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue  # its request gets no result and is marked failed by the caller
        key = key_of(obj.get("custom_id"))
        if key is not None:
            out[key] = obj
    return out


def apply_batch(store, client, plan: Plan, price, row: dict, batch, tally: Tally, job_id) -> None:
    """Write every request's result (or failure) and mark the row applied, all in one transaction."""
    results = read_result_lines(client, batch.error_file_id)
    results.update(read_result_lines(client, batch.output_file_id))  # a success wins over an error line
    snippets = store.snippets_by_id(row["snippet_ids"])
    outcomes = []
    batch_error = "; ".join(e.message or "" for e in (batch.errors.data or [])) if batch.errors else ""
    with store.tx():
        if store.get_label_batch(row["id"])["status"] not in ("preparing", "submitted"):
            return  # another job applied it first: its results and costs are already counted
        for sid in row["snippet_ids"]:
            snippet = snippets.get(sid)
            if snippet is None:
                continue  # deleted since it was submitted
            outcomes.append(_apply_one(store, plan, price, snippet, results.get(sid), batch, batch_error, job_id))
        store.update_label_batch(row["id"], status="applied" if batch.status == "completed" else "failed",
                                 remote_status=batch.status, output_file_id=batch.output_file_id,
                                 error_file_id=batch.error_file_id, error=batch_error or None)
    for outcome in outcomes:
        tally.add(outcome)


def _apply_one(store, plan: Plan, price, snippet: dict, result: dict | None, batch, batch_error: str,
               job_id) -> Outcome:
    response = (result or {}).get("response") or {}
    if result is None or result.get("error") or response.get("status_code") != 200:
        if result is None:
            error = f"batch {batch.id} {batch.status} without a result for this request" + \
                (f" ({batch_error})" if batch_error else "")
        else:
            err = result.get("error") or (response.get("body") or {}).get("error") or {}
            error = f"batch request failed (HTTP {response.get('status_code')}): {err.get('message') or err}"
        store.record_label(plan.pair(snippet, status="failed", error=error))
        return Outcome(snippet["id"], False, error=error)
    body = response.get("body") or {}
    choices = body.get("choices") or [{}]
    text = ((choices[0].get("message") or {}).get("content")) or ""
    usage = body.get("usage") or {}
    t_in, t_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    cost = cost_of(price, t_in, t_out, batch=True)
    instruction, reason = clean_reply(text, snippet["code"])
    store.record_label(
        plan.pair(snippet, instruction=instruction or "", status="draft" if instruction else "failed",
                  error=reason, raw_reply=text, tokens_in=t_in, tokens_out=t_out, cost=cost, latency_ms=None),
        {"job_id": job_id, "outcome": "ok" if instruction else "rejected", "batch": True,
         "tokens_in": t_in, "tokens_out": t_out, "cost": cost})
    return Outcome(snippet["id"], bool(instruction), t_in, t_out, cost, reason)


def label_batch_job(ctx) -> dict:
    """Job kind "label_batch": the same job as "label", always in Batch API mode."""
    if not ctx.params.get("batch"):
        ctx.params = dict(ctx.params, batch=True)
    return label_job(ctx)

