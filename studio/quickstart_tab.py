"""Quickstart tab: the whole road on the embedded defaults, one click, each step explained.

On an empty store this is where a newcomer starts: it curates a code folder (the studio's own
source by default), labels, reviews, freezes, fine-tunes the default model with LoRA for a few
minutes, and scores base and tuned on a stated HumanEval subset, then points to Chat, Compare and
Lineage. Each step says what it does, how long it should take, what it did, and where to look.
"""
from __future__ import annotations

import html

import gradio as gr

from pipeline.jobs.costs import duration_text
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


def build(ctx: StudioContext) -> None:
    from pipeline.errors import StudioError
    from pipeline.quickstart.road import QuickstartConfig, Road, start_quickstart

    intro = gr.Markdown(elem_id="quickstart-intro")
    with gr.Row():
        source = gr.Textbox(value=QuickstartConfig.default("source"), label=form_label("source", "Code folder to learn from", QuickstartConfig),
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
    form = [source, subdir, base, labeller, steps_n, tasks_n]

    def config(src, sub, b, lab, n_steps, n_tasks) -> QuickstartConfig:
        return QuickstartConfig.from_dict({"source": src, "subdir": sub or "", "base_model": b or "",
                                           "labeller": lab or "docstring", "train_steps": n_steps,
                                           "eval_tasks": n_tasks})

    def current_job(store) -> dict | None:
        jobs_ = store.list_jobs(limit=1, kind="quickstart")
        return jobs_[0] if jobs_ else None

    def view(cfg: QuickstartConfig, job: dict | None):
        store = ctx.store()
        rows = Road(store, cfg).status()
        running = job is not None and job["status"] in ("queued", "running")
        current = next((r["key"] for r in rows if not r["done"]), None) if running else None
        return job_status_html(job, "quickstart-job-row", empty="Not started yet."), steps_html(rows, current), running

    @ui_errors
    def load(src, sub, b, lab, n_steps, n_tasks):
        store = ctx.store()
        models = [m["name"] for m in store.list_models()]
        default = QuickstartConfig.default("base_model")
        cfg = config(src, sub, b or default, lab, n_steps, n_tasks)
        empty = not store.list_repos(limit=1)
        text = (("**New here?** " if empty else "") +
                f"One click walks the whole road on this machine: curate → label → review → freeze → "
                f"LoRA fine-tune → evaluate base and tuned → compare. No GPU and no internet needed. "
                f"pass@1 is measured on the first {cfg.eval_tasks} of HumanEval's 164 tasks.\n\n"
                f"{Road(store, cfg).totals_text().capitalize()}.")
        blockers = Road(store, cfg).blockers()
        if blockers:
            text += "\n\n**Before you start:** " + " ".join(f"{b}." for b in blockers)
        job = current_job(store)
        box, html_steps, running = view(cfg, job)
        return (text, gr.update(choices=sorted(set(models) | {default}), value=keep_choice(b or default,
                                                                                          sorted(set(models) | {default}))),
                gr.update(choices=["docstring", *models]), job["id"] if job else None, box, html_steps,
                gr.Timer(active=running))

    @ui_errors
    def start(*values):
        cfg = config(*values)
        jid = start_quickstart(ctx.store(), cfg)
        box, html_steps, _ = view(cfg, ctx.store().get_job(jid))
        return jid, box, html_steps, cfg.command_line("python -m pipeline quickstart run") + " --wait", \
            gr.Timer(active=True)

    def tick(jid, *values):
        if jid is None:
            return gr.skip(), gr.skip(), gr.Timer(active=False)
        try:
            cfg = config(*values)
        except (StudioError, ValueError):  # a half-edited form: keep showing what is there
            return gr.skip(), gr.skip(), gr.skip()
        box, html_steps, running = view(cfg, ctx.store().get_job(jid))
        return box, html_steps, gr.Timer(active=running)

    on_start(run_btn, start, form, [job_id, job_box, steps, command, timer])
    timer.tick(tick, [job_id, *form], [job_box, steps, timer], show_progress="hidden")
    ctx.on_load(load, form, [intro, base, labeller, job_id, job_box, steps, timer])


if __name__ == "__main__":   # python -m studio.quickstart_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
