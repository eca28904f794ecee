"""Jobs tab: every background job with a live progress bar, its log tail, cancel and resume.

Polling (gr.Timer) reads the store, so the page shows the same thing in every browser tab and
after the app restarts; the jobs themselves never depend on a page being open. Each tick also
runs `jobs.supervise`, so a job whose process died shows `interrupted` within a second or two.
Cancel returns at once (the job finishes requests already sent; the app enforces the grace);
Resume can be given the session API key again — it goes to the job's process only.
"""
from __future__ import annotations


import gradio as gr

from pipeline import jobs
from pipeline.errors import StudioError
from studio.widgets import job_list_html
from studio.common import StudioContext, ui_errors

TITLE = "Jobs"
POLL_S = 1.0


def progress_html(rows: list[dict]) -> str:
    return job_list_html(rows, "No jobs yet. Preparing the default model is the first one.")


def build(ctx: StudioContext) -> None:
    with gr.Row():
        status_filter = gr.Dropdown(["all", "running", "queued", "done", "failed", "cancelled",
                                     "interrupted"], value="all", label="Show", scale=1)
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
    timer = gr.Timer(POLL_S)

    @ui_errors
    def list_jobs(status):
        store = ctx.store()
        jobs.supervise(store)
        rows = store.list_jobs(limit=30, status=None if status == "all" else status)
        return progress_html(rows)

    @ui_errors
    def list_and_choices(status):
        rows = ctx.store().list_jobs(limit=30, status=None if status == "all" else status)
        labels = [f"{j['id']} · {j.get('title') or j['kind']} · {j['status']}" for j in rows]
        return progress_html(rows), gr.update(choices=labels)

    def job_number(value) -> int | None:
        """'12 · Prepare … · done' or '12' → 12."""
        text = str(value or "").strip().lstrip("#").split(" ")[0]
        if not text:
            return None
        if not text.isdigit():
            raise gr.Error(f"{value!r} is not a job id")
        return int(text)

    @ui_errors
    def show(jid):
        jid = job_number(jid)
        if not jid:
            return None, ""
        return ctx.store().get_job(jid), jobs.tail_log(jid, 8000)

    def job_action(action, verb: str):
        """A button handler that applies `action` (cancel / resume) to the picked job."""

        @ui_errors
        def handler(jid, *extra):
            jid = job_number(jid)
            if not jid:
                raise gr.Error(f"Pick the job to {verb}")
            job = action(ctx.store(), jid, *extra)
            state = "cancelling" if job["status"] == "running" and job.get("cancel_requested_at") else job["status"]
            gr.Info(f"Job {job['id']} {state}")
            return job, jobs.tail_log(jid, 8000)

        return handler

    def cancel_now(store, jid):
        return jobs.cancel(store, jid, wait=False)  # the page must not hang for the grace period

    def resume_with_key(store, jid, key):
        return jobs.resume(store, jid, api_key=(key or "").strip() or None)

    def tick(status, jid):
        """Every second: quiet by design. A half-typed or unknown id is reported once, by the
        picker's own input event, never by the timer."""
        bars_html = list_jobs(status)
        try:
            number = job_number(jid)
            if number:
                return bars_html, ctx.store().get_job(number), jobs.tail_log(number, 8000)
        except (gr.Error, StudioError):
            pass
        return bars_html, gr.skip(), gr.skip()

    timer.tick(tick, [status_filter, job_id], [bars, detail, log], show_progress="hidden")
    refresh.click(list_and_choices, status_filter, [bars, job_id])
    status_filter.change(list_and_choices, status_filter, [bars, job_id])
    job_id.focus(list_and_choices, status_filter, [bars, job_id])
    show_btn.click(show, job_id, [detail, log])
    job_id.input(show, job_id, [detail, log])
    cancel_btn.click(job_action(cancel_now, "cancel"), job_id, [detail, log])
    resume_btn.click(job_action(resume_with_key, "resume"), [job_id, resume_key], [detail, log])
    ctx.on_load(list_and_choices, status_filter, [bars, job_id])


if __name__ == "__main__":   # python -m studio.jobs_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
