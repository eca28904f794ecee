"""Widgets every tab shares, so a job or a piece of code looks the same wherever it appears."""
from __future__ import annotations

import html

import gradio as gr

from pipeline import jobs

TERMINAL_WITH_REASON = ("failed", "cancelled", "interrupted")


def job_status_html(job: dict | None, elem_id: str | None = None, *, empty: str = "",
                    note: str | None = None) -> str:
    """One job as a row: id, title, status, a progress bar, count/rate/ETA and a note.

    The note is the error for a job that failed, was cancelled or interrupted, else `note` when
    given (a tab's own summary of the result), else the job's last message. All text is escaped:
    error messages can carry model output or file content."""
    if not job:
        return f"<p class='muted'>{html.escape(empty)}</p>" if empty else ""
    total = job.get("total") or 0
    done = job.get("done") or 0
    pct = 100.0 * done / total if total else (100.0 if job["status"] == "done" else 0.0)
    if job["status"] in TERMINAL_WITH_REASON:
        text = job.get("error") or job.get("message") or ""
    else:
        text = note if note is not None else (job.get("message") or "")
    ident = f" id='{html.escape(elem_id)}'" if elem_id else ""
    return (f"<div class='job-row'{ident} data-job-id='{job['id']}' data-status='{html.escape(job['status'])}'>"
            f"<span class='job-id'>#{job['id']}</span> <b>{html.escape(job.get('title') or job['kind'])}</b> "
            f"<span class='job-status status-{html.escape(job['status'])}'>{html.escape(job['status'])}</span>"
            f"<progress max='100' value='{pct:.1f}'></progress> "
            f"<span class='job-progress'>{html.escape(jobs.format_progress(job))}</span> "
            f"<span class='job-note'>{html.escape(text)}</span></div>")


def job_list_html(rows: list[dict], empty: str) -> str:
    if not rows:
        return f"<p class='muted'>{html.escape(empty)}</p>"
    return "<div class='job-list'>" + "".join(job_status_html(j) for j in rows) + "</div>"


def on_start(button: gr.Button, fn, inputs, outputs, **kwargs):
    """Wire a button that submits a job: it is disabled from the click until the submission has
    returned (or failed), so three quick clicks start one job, not three."""
    return (button.click(lambda: gr.update(interactive=False), None, button, queue=False)
            .then(fn, inputs, outputs, **kwargs)
            .then(lambda: gr.update(interactive=True), None, button, queue=False))


# A config field's label on the form that shows it: the UI's messages name the box a person sees
# ("Training steps"), where the CLI's name the flag (--train-steps). Keyed by (config class, field):
# two forms may show fields of the same name (`limit`) under different labels. Filled as forms are built.
FIELD_LABELS: dict[tuple[str, str], str] = {}


def form_label(name: str, label: str, cls=None) -> str:
    """Record (and return) the label under which `cls`'s config field appears on a form."""
    FIELD_LABELS[(getattr(cls, "__name__", ""), name)] = label
    return label


def config_number(cls, name: str, label: str, **kwargs) -> gr.Number:
    """A number box whose default and help come from the job's config dataclass. Limits are not
    set on the box: the config validates, so the UI refuses with the same message as the CLI."""
    form_label(name, label, cls)
    default = cls.default(name)
    is_int = cls.__dataclass_fields__[name].type in ("int", "int | None", int)
    return gr.Number(value=default, label=label, info=cls.help(name), precision=0 if is_int else None,
                     **kwargs)
