"""Jobs tab: every background job with a live progress bar, its log tail, cancel and resume.

Polling (gr.Timer) reads the store, so the page shows the same thing in every browser tab and
after the app restarts; the jobs themselves never depend on a page being open. Each tick also
runs `jobs.supervise`, so a job whose process died shows `interrupted` within a second or two.
Cancel returns at once (the job finishes requests already sent; the app enforces the grace);
Resume can be given the session API key again — it goes to the job's process only.

Calls pipeline.jobs (`supervise`, `cancel`, `resume`, `tail_log`) and the store's job rows.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import gradio as gr

from pipeline import jobs
from pipeline.errors import StudioError
from pipeline.store import Store, open_store
from studio.common import StudioContext, ui_errors
from studio.widgets import job_list_html

TITLE = "Jobs"
POLL_S = 1.0
STATUSES = ["all", "running", "queued", "done", "failed", "cancelled", "interrupted"]
LIMIT = 30          # rows the list shows
LOG_CHARS = 8000    # how much of a job's log the detail shows


def progress_html(rows: list[dict]) -> str:
    """The job rows as progress bars, or a hint when there are none."""
    return job_list_html(rows, "No jobs yet. Preparing the default model is the first one.")


def _rows(store: Store, status: str | None) -> list[dict]:
    return store.list_jobs(limit=LIMIT, status=None if status in (None, "all") else status)


@ui_errors
def list_jobs(status: str) -> str:
    """The progress bars of the newest jobs with `status` ("all" for any), after marking jobs
    whose process died as interrupted."""
    store = open_store()
    jobs.supervise(store)
    return progress_html(_rows(store, status))


@ui_errors
def list_and_choices(status: str) -> tuple[str, Any]:
    """The progress bars and the picker's choices ("12 · title · status")."""
    rows = _rows(open_store(), status)
    labels = [f"{j['id']} · {j.get('title') or j['kind']} · {j['status']}" for j in rows]
    return progress_html(rows), gr.update(choices=labels)


def job_number(value: object) -> int | None:
    """'12 · Prepare … · done' or '12' → 12; None for an empty pick; gr.Error for anything else."""
    text = str(value or "").strip().lstrip("#").split(" ")[0]
    if not text:
        return None
    if not text.isdigit():
        raise gr.Error(f"{value!r} is not a job id")
    return int(text)


@ui_errors
def show_job(picked: object) -> tuple[dict | None, str]:
    """The picked job's row and log tail (nothing for an empty pick)."""
    jid = job_number(picked)
    if not jid:
        return None, ""
    return open_store().get_job(jid), jobs.tail_log(jid, LOG_CHARS)


def _act(action: Callable[..., dict], verb: str, picked: object, *extra: Any) -> tuple[dict, str]:
    """Apply `action` (cancel / resume) to the picked job; its row and log tail after."""
    jid = job_number(picked)
    if not jid:
        raise gr.Error(f"Pick the job to {verb}")
    job = action(open_store(), jid, *extra)
    state = "cancelling" if job["status"] == "running" and job.get("cancel_requested_at") else job["status"]
    gr.Info(f"Job {job['id']} {state}")
    return job, jobs.tail_log(jid, LOG_CHARS)


def _cancel_now(store: Store, jid: int) -> dict:
    return jobs.cancel(store, jid, wait=False)  # the page must not hang for the grace period


def _resume_with_key(store: Store, jid: int, key: str | None) -> dict:
    return jobs.resume(store, jid, api_key=(key or "").strip() or None)


@ui_errors
def cancel_job(picked: object) -> tuple[dict, str]:
    """Ask the picked job to stop; returns at once with its row and log tail."""
    return _act(_cancel_now, "cancel", picked)


@ui_errors
def resume_job(picked: object, key: str | None) -> tuple[dict, str]:
    """Resume the picked (interrupted / failed / cancelled) job, with the session's API key if
    one is typed: it is handed to the job's process only, never stored."""
    return _act(_resume_with_key, "resume", picked, key)


def tick(status: str, picked: object) -> tuple[Any, Any, Any]:
    """Every second: the bars, and the picked job's row and log. Quiet by design: a half-typed or
    unknown id is reported once, by the picker's own input event, never by the timer."""
    bars_html = list_jobs(status)
    try:
        number = job_number(picked)
        if number:
            return bars_html, open_store().get_job(number), jobs.tail_log(number, LOG_CHARS)
    except (gr.Error, StudioError):
        pass
    return bars_html, gr.skip(), gr.skip()


class _Layout(NamedTuple):
    status_filter: gr.Dropdown
    refresh: gr.Button
    bars: gr.HTML
    job_id: gr.Dropdown
    show_btn: gr.Button
    cancel_btn: gr.Button
    resume_key: gr.Textbox
    resume_btn: gr.Button
    detail: gr.JSON
    log: gr.Code
    timer: gr.Timer


def _layout() -> _Layout:
    with gr.Row():
        status_filter = gr.Dropdown(STATUSES, value="all", label="Show", scale=1)
        refresh = gr.Button("Refresh", scale=0, elem_id="jobs-refresh")
    bars = gr.HTML(elem_id="job-progress")
    with gr.Row():
        job_id = gr.Dropdown([], value=None, label="Job (pick, or type an id)", allow_custom_value=True,
                             scale=1, elem_id="job-pick")
        show_btn = gr.Button("Show", scale=0)
        cancel_btn = gr.Button("Cancel", variant="stop", scale=0)
        resume_key = gr.Textbox(label="API key for Resume (this session only, never stored)", type="password",
                                scale=1, elem_id="job-resume-key")
        resume_btn = gr.Button("Resume", scale=0)
    detail = gr.JSON(label="Job")
    log = gr.Code(label="Log (tail)", language=None, lines=12, max_lines=20, interactive=False)
    return _Layout(status_filter, refresh, bars, job_id, show_btn, cancel_btn, resume_key, resume_btn,
                   detail, log, gr.Timer(POLL_S))


def build(ctx: StudioContext) -> None:
    ui = _layout()
    listing = [ui.bars, ui.job_id]
    shown = [ui.detail, ui.log]
    ui.timer.tick(tick, [ui.status_filter, ui.job_id], [ui.bars, *shown], show_progress="hidden")
    ui.refresh.click(list_and_choices, ui.status_filter, listing)
    ui.status_filter.change(list_and_choices, ui.status_filter, listing)
    ui.job_id.focus(list_and_choices, ui.status_filter, listing)
    ui.show_btn.click(show_job, ui.job_id, shown)
    ui.job_id.input(show_job, ui.job_id, shown)
    ui.cancel_btn.click(cancel_job, ui.job_id, shown)
    ui.resume_btn.click(resume_job, [ui.job_id, ui.resume_key], shown)
    ctx.on_load(list_and_choices, ui.status_filter, listing)


if __name__ == "__main__":   # python -m studio.jobs_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
