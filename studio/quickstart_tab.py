"""Quickstart tab: the whole road on the embedded defaults, one click, each step explained.

On an empty store this is where a newcomer starts: it curates a code folder (the studio's own
source by default), labels, reviews, freezes, fine-tunes the default model with LoRA for a few
minutes, and scores base and tuned on a stated HumanEval subset, then points to Chat, Compare and
Lineage. Each step says what it does, how long it should take, what it did, and where to look.

Handlers call pipeline.quickstart.road (`QuickstartConfig`, `Road` for each step's status, the
totals and blockers, `start_quickstart`), the same as `python -m pipeline quickstart run`.
"""
from __future__ import annotations

import html
from typing import Any, NamedTuple

import gradio as gr

from pipeline.errors import StudioError
from pipeline.jobs.costs import duration_text
from pipeline.quickstart.road import QuickstartConfig, Road, start_quickstart
from pipeline.store import Store, open_store
from studio.common import StudioContext, keep_choice, ui_errors
from studio.widgets import config_number, form_label, job_status_html, on_start

TITLE = "Quickstart"
POLL_S = 2.0
LINKS = ["Repos", "Label", "Pairs", "Train", "Chat", "Evals", "Compare", "Lineage", "Models", "Jobs", "Settings"]


def steps_html(rows: list[dict], current: str | None) -> str:
    out = ["<ol class='quickstart-steps'>"]
    for row in rows:
        state = "done" if row["done"] else ("running" if row["key"] == current else "todo")
        # The list numbers the steps; the state is a word beside the title, not a second bullet.
        badge = {"done": " <span class='step-state'>✓ done</span>",
                 "running": " <span class='step-state'>running</span>", "todo": ""}[state]
        head = (f"<b>{html.escape(row['title'])}</b>{badge} "
                f"<span class='muted'>(about {duration_text(row['expected_s'])})</span>")
        body = html.escape(row["summary"]) if row["done"] else html.escape(row["what"])
        nxt = f"<br><span class='muted'>Next: {html.escape(row['next'])}</span>" if row["done"] else ""
        out.append(f"<li data-step='{row['key']}' data-state='{state}'>{head}<br>{body}{nxt}</li>")
    out.append("</ol>")
    return "".join(out)


# --- handlers: plain values in, plain values (or gr updates) out -------------------------------

def quickstart_config(source: str | None, subdir: str | None, base: str | None, labeller: str | None,
                      train_steps: Any, eval_tasks: Any) -> QuickstartConfig:
    """The form as the CLI's QuickstartConfig, which validates it."""
    return QuickstartConfig.from_dict({"source": source, "subdir": subdir or "", "base_model": base or "",
                                       "labeller": labeller or "docstring", "train_steps": train_steps,
                                       "eval_tasks": eval_tasks})


def current_job(store: Store) -> dict | None:
    """The newest quickstart job, if any."""
    jobs_ = store.list_jobs(limit=1, kind="quickstart")
    return jobs_[0] if jobs_ else None


def road_view(store: Store, cfg: QuickstartConfig, job: dict | None) -> tuple[str, str, bool]:
    """(the job's row, the steps list, whether the job is still going). While it goes, the first
    step not yet done is the one shown running."""
    rows = Road(store, cfg).status()
    running = job is not None and job["status"] in ("queued", "running")
    current = next((r["key"] for r in rows if not r["done"]), None) if running else None
    return job_status_html(job, "quickstart-job-row", empty="Not started yet."), steps_html(rows, current), running


def intro_markdown(store: Store, cfg: QuickstartConfig) -> str:
    """What one click does, what it costs in time on this machine, and what stands in the way."""
    empty = not store.list_repos(limit=1)
    road = Road(store, cfg)
    text = (("**New here?** " if empty else "") +
            f"One click walks the whole road on this machine: curate → label → review → freeze → "
            f"LoRA fine-tune → evaluate base and tuned → compare. No GPU and no internet needed. "
            f"pass@1 is measured on the first {cfg.eval_tasks} of HumanEval's 164 tasks.\n\n"
            f"{road.totals_text().capitalize()}.")
    blockers = road.blockers()
    if blockers:
        text += "\n\n**Before you start:** " + " ".join(f"{b}." for b in blockers)
    return text


@ui_errors
def load(source: str | None, subdir: str | None, base: str | None, labeller: str | None, train_steps: Any,
         eval_tasks: Any) -> tuple:
    """The page opened: (intro, base model choices, labeller choices, the newest quickstart job's
    id, its row, the steps, the timer, active while that job runs)."""
    store = open_store()
    models = [m["name"] for m in store.list_models()]
    default = QuickstartConfig.default("base_model")
    cfg = quickstart_config(source, subdir, base or default, labeller, train_steps, eval_tasks)
    job = current_job(store)
    box, html_steps, running = road_view(store, cfg, job)
    bases = sorted(set(models) | {default})
    return (intro_markdown(store, cfg), gr.update(choices=bases, value=keep_choice(base or default, bases)),
            gr.update(choices=["docstring", *models]), job["id"] if job else None, box, html_steps,
            gr.Timer(active=running))


@ui_errors
def start_road(*form: Any) -> tuple:
    """Start the quickstart job with the form's values (quickstart_config's fields): (job id, its
    row, the steps, the same command for the CLI, the timer, now polling)."""
    cfg = quickstart_config(*form)
    store = open_store()
    jid = start_quickstart(store, cfg)
    box, html_steps, _ = road_view(store, cfg, store.get_job(jid))
    return jid, box, html_steps, cfg.command_line("python -m pipeline quickstart run") + " --wait", \
        gr.Timer(active=True)


def tick(jid: int | None, *form: Any) -> tuple:
    """The timer's poll: (the job's row, the steps, the timer, stopped once the job ends)."""
    if jid is None:
        return gr.skip(), gr.skip(), gr.Timer(active=False)
    try:
        cfg = quickstart_config(*form)
    except (StudioError, ValueError):  # a half-edited form: keep showing what is there
        return gr.skip(), gr.skip(), gr.skip()
    store = open_store()
    box, html_steps, running = road_view(store, cfg, store.get_job(jid))
    return box, html_steps, gr.Timer(active=running)


# --- layout ------------------------------------------------------------------------------------

class QuickstartView(NamedTuple):
    intro: gr.Markdown
    fields: list   # quickstart_config's inputs, in order: source, subdir, base, labeller, steps, tasks
    run: gr.Button
    job_id: gr.State
    job_box: gr.HTML
    steps: gr.HTML
    command: gr.Textbox
    timer: gr.Timer


def _layout_form() -> list:
    with gr.Row():
        source = gr.Textbox(value=QuickstartConfig.default("source"),
                            label=form_label("source", "Code folder to learn from", QuickstartConfig),
                            info=QuickstartConfig.help("source"), scale=3, elem_id="quickstart-source")
        subdir = gr.Textbox(value=QuickstartConfig.default("subdir"), label="Only this subfolder", scale=1,
                            elem_id="quickstart-subdir")
    with gr.Row():
        base = gr.Dropdown([], label="Base model", info=QuickstartConfig.help("base_model"), scale=2,
                           allow_custom_value=True, elem_id="quickstart-base")
        labeller = gr.Dropdown(["docstring"], value="docstring", label="Labeller", scale=1,
                               info=QuickstartConfig.help("labeller"), elem_id="quickstart-labeller")
        steps_n = config_number(QuickstartConfig, "train_steps", "Training steps", scale=1,
                                elem_id="quickstart-train-steps")
        tasks_n = config_number(QuickstartConfig, "eval_tasks", "HumanEval tasks", scale=1,
                                elem_id="quickstart-tasks")
    return [source, subdir, base, labeller, steps_n, tasks_n]


def _layout(ctx: StudioContext) -> QuickstartView:
    intro = gr.Markdown(elem_id="quickstart-intro")
    fields = _layout_form()
    run_btn = gr.Button("Run the whole road", variant="primary", elem_id="quickstart-run")
    job_id = gr.State(None)
    job_box = gr.HTML(elem_id="quickstart-job")
    steps = gr.HTML(elem_id="quickstart-steps")
    command = gr.Textbox(label="The same from the command line", interactive=False, elem_id="quickstart-cli")
    gr.Markdown("**Go to:**")
    with gr.Row():
        for title in LINKS:
            ctx.go_to(gr.Button(title, size="sm", scale=0, elem_id=f"quickstart-go-{title.lower()}"), title)
    timer = gr.Timer(POLL_S, active=False)
    return QuickstartView(intro, fields, run_btn, job_id, job_box, steps, command, timer)


# --- wiring ------------------------------------------------------------------------------------

def build(ctx: StudioContext) -> None:
    v = _layout(ctx)
    _, _, base, labeller, _, _ = v.fields
    on_start(v.run, start_road, v.fields, [v.job_id, v.job_box, v.steps, v.command, v.timer])
    v.timer.tick(tick, [v.job_id, *v.fields], [v.job_box, v.steps, v.timer], show_progress="hidden")
    ctx.on_load(load, v.fields, [v.intro, base, labeller, v.job_id, v.job_box, v.steps, v.timer])


if __name__ == "__main__":   # python -m studio.quickstart_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
