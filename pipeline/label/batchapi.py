"""The OpenAI Batch API plumbing that labelling (pipeline.label.batch) and judging
(evals.judge.batch) share: submit one JSONL of requests as a batch (or adopt the one already
created for a recorded row, found by its marker), poll every open batch until it ends, and read a
batch's output and error files back by custom_id.

A caller keeps its batches as store rows (`label_batches`, `judge_batches`) with `batch_id`,
`remote_status` and `marker`, and passes the functions that read and update its row; what a
finished batch means (labels, judgments) is the caller's `apply`.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable

from pipeline.jsonl import parse_lines

ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def find_batch_by_marker(client, marker: str, look_at: int = 1000):
    """A batch we created but whose id we never stored (crash right after create)."""
    for i, batch in enumerate(client.batches.list(limit=100)):
        if (batch.metadata or {}).get("studio_marker") == marker:
            return batch
        if i + 1 >= look_at:
            break
    return None


def submit(client, row: dict, lines: Callable[[], list[str]], *, name: str, metadata: dict,
           update_row: Callable[..., dict], log: Callable[[str], None], what: str = "requests") -> dict:
    """Create the batch for `row` from `lines()` (JSON request lines), or adopt the batch already
    created for it before a crash; the row gets the input file's id, then the batch's id and
    status ('submitted'). Returns the updated row."""
    found = find_batch_by_marker(client, row["marker"])
    if found is not None:
        log(f"adopting batch {found.id}, created before the job stopped")
        return update_row(row["id"], batch_id=found.id, input_file_id=found.input_file_id,
                          status="submitted", remote_status=found.status)
    body = lines()
    upload = client.files.create(file=(f"{name}-{row['marker']}.jsonl", io.BytesIO("\n".join(body).encode() + b"\n")),
                                 purpose="batch")
    update_row(row["id"], input_file_id=upload.id)
    batch = client.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
                                  metadata={"studio_marker": row["marker"], **metadata})
    log(f"submitted batch {batch.id}: {len(body)} {what}")
    return update_row(row["id"], batch_id=batch.id, status="submitted", remote_status=batch.status)


def poll(client, row_ids: list[int], *, get_row: Callable[[int], dict], update_row: Callable[..., dict],
         apply: Callable[[dict, object], None], poll_s: float, report: Callable[[int, int], None],
         log: Callable[[str], None]) -> None:
    """Until every batch of `row_ids` has ended: ask the provider for each one's status (a change
    is stored and logged), hand a batch that ended to `apply(row, batch)`, and between rounds call
    `report(batches still at the provider, their requests done there)` about once a second for
    `poll_s` seconds. `report` is where a job's progress goes, so a cancel raised there is seen
    within a second."""
    waiting = set(row_ids)
    while waiting:
        done_there = 0
        for row_id in sorted(waiting):
            row = get_row(row_id)
            batch = client.batches.retrieve(row["batch_id"])
            if batch.status != row["remote_status"]:
                update_row(row_id, remote_status=batch.status)
                log(f"batch {batch.id}: {batch.status}")
            if batch.status in TERMINAL:
                apply(row, batch)
                waiting.discard(row_id)
            elif batch.request_counts:
                done_there += batch.request_counts.completed + batch.request_counts.failed
        if not waiting:
            break
        deadline = time.monotonic() + poll_s
        while time.monotonic() < deadline:  # short naps so a cancel is seen within a second
            report(len(waiting), done_there)
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def read_result_lines(client, file_id: str | None, key_of: Callable[[str | None], object]) -> dict:
    """A batch output or error file as {key_of(custom_id): line}; lines that are not JSON or whose
    custom_id `key_of` does not know (None) are left out, so their requests get no result."""
    if not file_id:
        return {}
    out = {}
    for _, obj, problem in parse_lines(client.files.content(file_id).text.splitlines(), file_id):
        if problem:
            continue  # its request gets no result and is marked failed by the caller
        key = key_of(obj.get("custom_id"))
        if key is not None:
            out[key] = obj
    return out


def batch_results(client, batch, key_of: Callable[[str | None], object]) -> dict:
    """Every request's line of a finished batch by key; a success wins over an error line."""
    results = read_result_lines(client, batch.error_file_id, key_of)
    results.update(read_result_lines(client, batch.output_file_id, key_of))
    return results
