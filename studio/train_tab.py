"""Train tab: configure a fine-tune, read the exact command and memory estimate, start/stop/resume,
watch loss live, compare runs, merge, export to GGUF and push checkpoints.

The form is generated from TrainConfig (defaults, choices and help come from the dataclass), and
every button calls pipeline.train — the same functions as `python -m pipeline train …`. The hub
token box lives in this browser session only and is never stored.
"""
from __future__ import annotations

import html
import typing
from dataclasses import fields

import gradio as gr

from pipeline import jobs
from pipeline.train import job as train_job
from pipeline.train import outputs
from pipeline.train.config import TrainConfig
from studio.common import StudioContext, ui_errors
from studio.widgets import form_label

TITLE = "Train"
POLL_S = 1.5
MAIN = ("run_name", "base_model", "dataset", "template", "method", "max_steps", "num_epochs",
        "learning_rate", "batch_size", "grad_accum", "max_length")
HARDWARE = ("device", "gpus", "distributed", "offload", "num_processes", "num_machines", "machine_rank",
            "main_address", "main_port", "price_per_gpu_hour")
PICKED = ("base_model", "dataset", "init_from_run")  # dropdowns filled from the store
RUN_COLUMNS = ["id", "name", "status", "method", "dataset", "step", "loss", "cost"]


def _component(f, hint):
    label, info, elem = form_label(f.name, f.name.replace("_", " "), TrainConfig), f.metadata.get("help"), f"train-{f.name}"
    default = TrainConfig.default(f.name)
    if f.name in PICKED:
        return gr.Dropdown([], value=default or None, label=label, info=info, allow_custom_value=True,
                           elem_id=elem)
    if "choices" in f.metadata:
        return gr.Dropdown(list(f.metadata["choices"]), value=default, label=label, info=info, elem_id=elem)
    if hint is bool:
        return gr.Checkbox(value=default, label=label, info=info, elem_id=elem)
    if hint in (int, float):
        return gr.Number(value=default, label=label, info=info, precision=0 if hint is int else None,
                         elem_id=elem)
    if isinstance(default, list):
        return gr.Textbox(value=",".join(default), label=label, info=info, elem_id=elem)
    return gr.Textbox(value=default, label=label, info=info, elem_id=elem)


def status_html(run: dict | None, points: int = 0) -> str:
    if not run:
        return "<p class='muted' id='train-status' data-points='0'>No run selected.</p>"
    total = run.get("total_steps") or 0
    pct = 100.0 * run["step"] / total if total else 0.0
    job = None
    if run.get("job_id"):
        job = ctx_store_job(run["job_id"])
    eta = f" · ETA {job['eta_s']:.0f}s" if job and job.get("eta_s") and run["status"] == "running" else ""
    note = run.get("error") or ""
    return (f"<div class='job-row' id='train-status' data-run-id='{run['id']}' data-status='{run['status']}' "
            f"data-points='{points}' data-step='{run['step']}'><b>{html.escape(run['name'])}</b> "
            f"<span class='job-status status-{run['status']}'>{run['status']}</span>"
            f"<progress max='100' value='{pct:.1f}'></progress> step {run['step']}/{total or '?'}{eta} · "
            f"{html.escape(outputs.cost_line(run))} <span class='job-note'>{html.escape(note)}</span></div>")


def ctx_store_job(job_id: int) -> dict | None:
    from pipeline.store import NotFoundError, open_store

    try:
        return open_store().get_job(job_id)
    except NotFoundError:
        return None


LOG_LINES = 14


def log_tail(job_id: int | None, lines: int = LOG_LINES) -> str:
    """The newest lines of a run's log, last line at the bottom: what a person watching wants."""
    if not job_id:
        return ""
    text = jobs.tail_log(job_id, 8000)
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def loss_plot(store, run: dict):
    """The followed run's curve: its name in the title, its series (loss, eval loss) in the legend,
    so the legend can never name another run."""
    df = _plot_rows(store, [run["id"]])
    return gr.LinePlot(value=df, title=f"Loss · {run['name']}"), len(df)


def _plot_rows(store, run_refs) -> "object":
    import pandas as pd

    rows = outputs.curves(store, run_refs)
    return pd.DataFrame(rows or [], columns=["run", "step", "series", "value", "curve"])


def _rounded(value):
    return round(value, 4) if isinstance(value, float) else value


def build(ctx: StudioContext) -> None:
    hints = typing.get_type_hints(TrainConfig)
    gr.Markdown("Fine-tune a registered model on a frozen dataset. **Preview** shows the exact "
                "`accelerate launch` command, its config files and a memory estimate; **Start** saves "
                "them with the run and queues it behind runs on the same devices.")
    comps: dict = {}
    main = [f for f in fields(TrainConfig) if f.name in MAIN]
    for chunk in (main[:5], main[5:]):
        with gr.Row():
            for f in chunk:
                comps[f.name] = _component(f, hints[f.name])
    with gr.Accordion("More training settings", open=False):
        rest = [f for f in fields(TrainConfig) if f.name not in MAIN + HARDWARE]
        for i in range(0, len(rest), 5):
            with gr.Row():
                for f in rest[i:i + 5]:
                    comps[f.name] = _component(f, hints[f.name])
    with gr.Accordion("Hardware and launch (GPUs, DeepSpeed, FSDP, nodes)", open=False):
        hw = [f for f in fields(TrainConfig) if f.name in HARDWARE]
        for i in range(0, len(hw), 5):
            with gr.Row():
                for f in hw[i:i + 5]:
                    comps[f.name] = _component(f, hints[f.name])
    names = [f.name for f in fields(TrainConfig)]
    form = [comps[n] for n in names]
    with gr.Row():
        refresh_btn = gr.Button("Refresh lists", scale=0, elem_id="train-refresh")
        preview_btn = gr.Button("Preview", elem_id="train-preview-btn")
        start_btn = gr.Button("Start", variant="primary", elem_id="train-start")
        stop_btn = gr.Button("Stop (checkpoint, then end)", variant="stop", elem_id="train-stop")
        resume_btn = gr.Button("Resume", elem_id="train-resume")
    estimate_md = gr.Markdown(elem_id="train-estimate")
    preview = gr.Code(label="Command and config files", language="shell", lines=8, interactive=False,
                      elem_id="train-preview")
    run_id = gr.State(None)
    status = gr.HTML(status_html(None))
    plot = gr.LinePlot(x="step", y="value", color="series", title="Loss", height=280, elem_id="train-loss-plot")
    log = gr.Code(label=f"Log (newest {LOG_LINES} lines)", language=None, lines=8, max_lines=LOG_LINES,
                  interactive=False, elem_id="train-log")
    with gr.Accordion("Runs: compare settings and curves", open=False):
        runs_table = gr.Dataframe(headers=RUN_COLUMNS, interactive=False, elem_id="train-runs")
        with gr.Row():
            compare = gr.Dropdown([], multiselect=True, label="Runs to compare", elem_id="train-compare")
            compare_btn = gr.Button("Compare", scale=0)
        diff_table = gr.Dataframe(headers=["setting", "first run", "second run"], interactive=False)
        compare_plot = gr.LinePlot(x="step", y="value", color="curve", title="Loss by run", height=260)
    with gr.Accordion("Merge a LoRA checkpoint / export to GGUF / push to the hub", open=False):
        with gr.Row():
            ckpt = gr.Dropdown([], label="Checkpoint model", allow_custom_value=True, elem_id="train-ckpt")
            merge_btn = gr.Button("Merge into base", scale=0)
        from studio.gguf_export import export_controls

        export_controls(ctx, ckpt, "train")
        with gr.Row():
            repo = gr.Textbox(label="Hub repo (owner/name)")
            token = gr.Textbox(label="HF token (this session only, never stored)", type="password")
            push_btn = gr.Button("Push", scale=0)
            card_btn = gr.Button("Preview model card", scale=0, elem_id="model-card-preview")
        out_md = gr.Markdown()
    timer = gr.Timer(POLL_S, active=False)   # on only while the followed run can still change

    def config(values) -> TrainConfig:
        data = {}
        for name, value in zip(names, values):
            if isinstance(value, float) and hints[name] is int:
                value = int(value)
            data[name] = "" if value is None and hints[name] is str else value
        return TrainConfig.from_dict(data)

    @ui_errors
    def refresh(*current):
        store = ctx.store()
        train_job.reconcile_runs(store)
        models = [m["name"] for m in store.list_models() if m["kind"] in ("local", "hf")]
        frozen = store.list_datasets()
        datasets = [f"{d['name']}@{d['version']}" for d in frozen]
        # A first visit offers the newest frozen dataset rather than an empty box.
        newest = max(frozen, key=lambda d: d["id"], default=None)
        current = (current[0], current[1] or (f"{newest['name']}@{newest['version']}" if newest else None),
                   *current[2:])
        runs = store.list_runs()
        ckpts = [m["name"] for m in store.list_models() if m.get("run_id") and m["kind"] == "local"]
        pick = lambda choices, value: gr.update(choices=choices, value=value if value else None)  # noqa: E731
        table = [[r["id"], r["name"], r["status"], r["method"], f"{r['dataset']}@{r['dataset_version']}",
                  f"{r['step']}/{r['total_steps'] or '?'}", _rounded(store.latest_run_loss(r["id"])),
                  outputs.cost_line(r)] for r in runs]
        names_ = [r["name"] for r in runs]
        return (pick(models, current[0]), pick(datasets, current[1]), pick(names_, current[2]), table,
                gr.update(choices=names_), gr.update(choices=ckpts))

    @ui_errors
    def do_preview(*values):
        plan = train_job.plan_run(ctx.store(), config(values))
        return plan["estimate"]["summary"], train_job.plan_text(plan)

    @ui_errors
    def do_start(*values):
        run = train_job.start_run(ctx.store(), config(values))
        gr.Info(f"Run {run['name']} queued as job {run['job_id']}")
        shown = "$ " + run["command"] + "".join(f"\n\n--- {name}\n{text}" for name, text in run["launch_files"].items())
        return run["id"], run["estimate"].get("summary", ""), shown, status_html(run)

    @ui_errors
    def tick(rid):
        if not rid:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        store = ctx.store()
        run = store.get_run(int(rid))
        if run["status"] in ("queued", "running", "stopping"):
            train_job.reconcile_runs(store)
            run = store.get_run(int(rid))
        figure, points = loss_plot(store, run)
        # A finished run is drawn once; re-plotting it every tick only keeps the browser busy.
        live = run["status"] in ("queued", "running", "stopping")
        return status_html(run, points), figure, log_tail(run.get("job_id")), gr.Timer(active=live)

    @ui_errors
    def do_stop(rid):
        if not rid:
            raise gr.Error("Start or pick a run first")
        return status_html(train_job.stop_run(ctx.store(), int(rid)))

    @ui_errors
    def do_resume(rid):
        if not rid:
            raise gr.Error("Start or pick a run first")
        run = train_job.resume_run(ctx.store(), int(rid))
        gr.Info(f"Run {run['name']} resumes as job {run['job_id']}")
        return status_html(run)

    @ui_errors
    def do_compare(picked):
        store = ctx.store()
        if not picked:
            raise gr.Error("Pick one or more runs to compare")
        diff = [[k, str(a), str(b)] for k, a, b in outputs.diff_runs(store, picked[0], picked[1])] \
            if len(picked) >= 2 else []
        return diff, _plot_rows(store, picked)

    @ui_errors
    def select_run(evt: gr.SelectData, table):
        row = table.iloc[evt.index[0]] if hasattr(table, "iloc") else table[evt.index[0]]
        rid = int(row[0] if not hasattr(row, "iloc") else row.iloc[0])
        return rid, status_html(ctx.store().get_run(rid))

    @ui_errors
    def do_merge(name):
        model = outputs.merge_adapter(ctx.store(), (name or "").strip())
        return f"Merged into `{model['path']}`, registered as **{model['name']}**."

    @ui_errors
    def do_push(name, repo_id, key):
        # A pasted token is the session's; without one the gate decides if the server's may be used.
        url = outputs.push_to_hub(ctx.store(), (name or "").strip(), (repo_id or "").strip(),
                                  token=(key or "").strip() or None)
        return f"Pushed to {url}"

    picked = [comps["base_model"], comps["dataset"], comps["init_from_run"]]
    refresh_out = picked + [runs_table, compare, ckpt]
    refresh_btn.click(refresh, picked, refresh_out)
    ctx.on_load(refresh, picked, refresh_out)
    # Someone coming back to the tab sees the newest run's curve and log, not an empty panel.
    def follow(rid):
        rid = rid or next((r["id"] for r in ctx.store().list_runs()), None)
        return (rid, *tick(rid))

    ctx.on_load(follow, run_id, [run_id, status, plot, log, timer])
    preview_btn.click(do_preview, form, [estimate_md, preview])
    shown = [status, plot, log, timer]
    start_btn.click(do_start, form, [run_id, estimate_md, preview, status]).then(tick, run_id, shown)
    stop_btn.click(do_stop, run_id, status).then(tick, run_id, shown)
    resume_btn.click(do_resume, run_id, status).then(tick, run_id, shown)
    timer.tick(tick, run_id, shown, show_progress="hidden")
    compare_btn.click(do_compare, compare, [diff_table, compare_plot])
    runs_table.select(select_run, runs_table, [run_id, status]).then(tick, run_id, shown)
    merge_btn.click(do_merge, ckpt, out_md)
    push_btn.click(do_push, [ckpt, repo, token], out_md)

    @ui_errors
    def preview_card(name):  # the card the push writes, from lineage (pipeline.lineage.cards)
        from pipeline.lineage.cards import card_text

        text = card_text(ctx.store(), "model", (name or "").strip())
        return "```yaml\n" + text.lstrip().removeprefix("---\n").replace("\n---\n", "\n```\n", 1)

    card_btn.click(preview_card, ckpt, out_md)


if __name__ == "__main__":   # python -m studio.train_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
