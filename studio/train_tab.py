"""Train tab: configure a fine-tune, read the exact command and memory estimate, start/stop/resume,
watch loss live, compare runs, merge, export to GGUF and push checkpoints.

The form is generated from TrainConfig (defaults, choices and help come from the dataclass), and
every button calls pipeline.train — `job.plan_run` / `start_run` / `stop_run` / `resume_run` and
`outputs.curves` / `diff_runs` / `merge_adapter` / `push_to_hub`, the same functions as
`python -m pipeline train …`. The hub token box lives in this browser session only and is never
stored.
"""
from __future__ import annotations

import html
import typing
from dataclasses import Field, fields
from typing import Any, NamedTuple

import gradio as gr

from pipeline import jobs
from pipeline.store import Store, open_store
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
NAMES = [f.name for f in fields(TrainConfig)]   # the form's inputs, in this order
HINTS = typing.get_type_hints(TrainConfig)
LIVE = ("queued", "running", "stopping")       # a run in these states can still change
LOG_LINES = 14


# -- what the panels show ---------------------------------------------------------------------------
def status_html(run: dict | None, points: int = 0) -> str:
    """The followed run as one row: name, status, a progress bar, step, ETA, cost and error.
    `data-points` (the curve's point count) lets a page tell a redrawn plot from an old one."""
    if not run:
        return "<p class='muted' id='train-status' data-points='0'>No run selected.</p>"
    total = run.get("total_steps") or 0
    pct = 100.0 * run["step"] / total if total else 0.0
    job = _job_row(run["job_id"]) if run.get("job_id") else None
    eta = f" · ETA {job['eta_s']:.0f}s" if job and job.get("eta_s") and run["status"] == "running" else ""
    note = run.get("error") or ""
    return (f"<div class='job-row' id='train-status' data-run-id='{run['id']}' data-status='{run['status']}' "
            f"data-points='{points}' data-step='{run['step']}'><b>{html.escape(run['name'])}</b> "
            f"<span class='job-status status-{run['status']}'>{run['status']}</span>"
            f"<progress max='100' value='{pct:.1f}'></progress> step {run['step']}/{total or '?'}{eta} · "
            f"{html.escape(outputs.cost_line(run))} <span class='job-note'>{html.escape(note)}</span></div>")


def _job_row(job_id: int) -> dict | None:
    from pipeline.store import NotFoundError

    try:
        return open_store().get_job(job_id)
    except NotFoundError:
        return None


def log_tail(job_id: int | None, lines: int = LOG_LINES) -> str:
    """The newest lines of a run's log, last line at the bottom: what a person watching wants."""
    if not job_id:
        return ""
    text = jobs.tail_log(job_id, 8000)
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def loss_plot(store: Store, run: dict) -> tuple[gr.LinePlot, int]:
    """The followed run's curve: its name in the title, its series (loss, eval loss) in the legend,
    so the legend can never name another run."""
    df = _plot_rows(store, [run["id"]])
    return gr.LinePlot(value=df, title=f"Loss · {run['name']}"), len(df)


def _plot_rows(store: Store, run_refs: list) -> Any:
    import pandas as pd

    rows = outputs.curves(store, run_refs)
    return pd.DataFrame(rows or [], columns=["run", "step", "series", "value", "curve"])


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def runs_table(store: Store, runs: list[dict]) -> list[list]:
    """`runs` as rows of RUN_COLUMNS, each with its latest logged loss."""
    return [[r["id"], r["name"], r["status"], r["method"], f"{r['dataset']}@{r['dataset_version']}",
             f"{r['step']}/{r['total_steps'] or '?'}", _rounded(store.latest_run_loss(r["id"])),
             outputs.cost_line(r)] for r in runs]


def config_from_form(values: tuple | list) -> TrainConfig:
    """The TrainConfig of the form's values (in NAMES order): number boxes send floats, empty
    text boxes None."""
    data = {}
    for name, value in zip(NAMES, values):
        if isinstance(value, float) and HINTS[name] is int:
            value = int(value)
        data[name] = "" if value is None and HINTS[name] is str else value
    return TrainConfig.from_dict(data)


def _picked_run(rid: Any) -> int:
    if not rid:
        raise gr.Error("Start or pick a run first")
    return int(rid)


# -- handlers -------------------------------------------------------------------------------------
@ui_errors
def refresh_lists(base_model: str | None, dataset: str | None, init_from_run: str | None) -> tuple:
    """The form's pickers (models, frozen datasets, runs to start from), the runs table, the compare
    picker and the checkpoint picker, after settling runs whose job has ended."""
    store = open_store()
    train_job.reconcile_runs(store)
    models = [m["name"] for m in store.list_models() if m["kind"] in ("local", "hf")]
    frozen = store.list_datasets()
    datasets = [f"{d['name']}@{d['version']}" for d in frozen]
    # A first visit offers the newest frozen dataset rather than an empty box.
    newest = max(frozen, key=lambda d: d["id"], default=None)
    dataset = dataset or (f"{newest['name']}@{newest['version']}" if newest else None)
    runs = store.list_runs()
    run_names = [r["name"] for r in runs]
    ckpts = [m["name"] for m in store.list_models() if m.get("run_id") and m["kind"] == "local"]
    return (_offer(models, base_model), _offer(datasets, dataset), _offer(run_names, init_from_run),
            runs_table(store, runs), gr.update(choices=run_names), gr.update(choices=ckpts))


def _offer(choices: list[str], value: str | None) -> Any:
    # The typed value stays even when not offered (these boxes take custom values): no `keep_choice`.
    return gr.update(choices=choices, value=value if value else None)


@ui_errors
def preview_run(*values: Any) -> tuple[str, str]:
    """The memory estimate and the exact command and config files the form would run."""
    plan = train_job.plan_run(open_store(), config_from_form(values))
    return plan["estimate"]["summary"], train_job.plan_text(plan)


@ui_errors
def start_run(*values: Any) -> tuple[int, str, str, str]:
    """Queue the form's run: its id, its estimate, its command and files, its status row."""
    run = train_job.start_run(open_store(), config_from_form(values))
    gr.Info(f"Run {run['name']} queued as job {run['job_id']}")
    shown = "$ " + run["command"] + "".join(f"\n\n--- {name}\n{text}" for name, text in run["launch_files"].items())
    return run["id"], run["estimate"].get("summary", ""), shown, status_html(run)


@ui_errors
def poll_run(rid: Any) -> tuple:
    """The followed run's status row, loss plot and log tail, and whether the timer stays on."""
    if not rid:
        return gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
    store = open_store()
    run = store.get_run(int(rid))
    if run["status"] in LIVE:
        train_job.reconcile_runs(store)
        run = store.get_run(int(rid))
    figure, points = loss_plot(store, run)
    # A finished run is drawn once; re-plotting it every tick only keeps the browser busy.
    return status_html(run, points), figure, log_tail(run.get("job_id")), gr.Timer(active=run["status"] in LIVE)


@ui_errors
def follow_newest(rid: Any) -> tuple:
    """On opening the page: follow `rid`, else the newest run, so someone coming back sees its
    curve and log rather than an empty panel."""
    rid = rid or next((r["id"] for r in open_store().list_runs()), None)
    return (rid, *poll_run(rid))   # a refusal inside (the run is gone) is this handler's one gr.skip()


@ui_errors
def stop_run(rid: Any) -> str:
    """Ask the followed run to checkpoint and end; its status row."""
    return status_html(train_job.stop_run(open_store(), _picked_run(rid)))


@ui_errors
def resume_run(rid: Any) -> str:
    """Resume the followed run from its last checkpoint as a new job; its status row."""
    run = train_job.resume_run(open_store(), _picked_run(rid))
    gr.Info(f"Run {run['name']} resumes as job {run['job_id']}")
    return status_html(run)


@ui_errors
def compare_runs(picked: list[str] | None) -> tuple[list[list], Any]:
    """The settings that differ between the first two picked runs, and every picked run's curves."""
    if not picked:
        raise gr.Error("Pick one or more runs to compare")
    store = open_store()
    diff = [[k, str(a), str(b)] for k, a, b in outputs.diff_runs(store, picked[0], picked[1])] \
        if len(picked) >= 2 else []
    return diff, _plot_rows(store, picked)


@ui_errors
def select_run(evt: gr.SelectData, table: Any) -> tuple[int, str]:
    """Follow the run whose row was clicked in the runs table."""
    row = table.iloc[evt.index[0]] if hasattr(table, "iloc") else table[evt.index[0]]
    rid = int(row[0] if not hasattr(row, "iloc") else row.iloc[0])
    return rid, status_html(open_store().get_run(rid))


@ui_errors
def merge_checkpoint(name: str | None) -> str:
    """Merge a LoRA checkpoint into its base and register the result."""
    model = outputs.merge_adapter(open_store(), (name or "").strip())
    return f"Merged into `{model['path']}`, registered as **{model['name']}**."


@ui_errors
def push_checkpoint(name: str | None, repo_id: str | None, key: str | None) -> str:
    """Upload a checkpoint (with its model card) to a hub repo."""
    # A pasted token is the session's; without one the gate decides if the server's may be used.
    url = outputs.push_to_hub(open_store(), (name or "").strip(), (repo_id or "").strip(),
                              token=(key or "").strip() or None)
    return f"Pushed to {url}"


@ui_errors
def preview_model_card(name: str | None) -> str:
    """The card a push writes, from lineage (pipeline.lineage.cards), its YAML header fenced."""
    from pipeline.lineage.cards import card_text

    text = card_text(open_store(), "model", (name or "").strip())
    return "```yaml\n" + text.lstrip().removeprefix("---\n").replace("\n---\n", "\n```\n", 1)


# -- layout ---------------------------------------------------------------------------------------
def _component(f: Field, hint: Any) -> gr.components.Component:
    """The form box of one TrainConfig field: its label, default, choices and help from the field."""
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


def _rows_of(chosen: list[Field], comps: dict) -> None:
    for i in range(0, len(chosen), 5):
        with gr.Row():
            for f in chosen[i:i + 5]:
                comps[f.name] = _component(f, HINTS[f.name])


def _layout_form() -> dict[str, gr.components.Component]:
    """Every TrainConfig field as a box, by name: the main ones first, the rest folded away."""
    comps: dict[str, gr.components.Component] = {}
    main = [f for f in fields(TrainConfig) if f.name in MAIN]
    for chunk in (main[:5], main[5:]):
        with gr.Row():
            for f in chunk:
                comps[f.name] = _component(f, HINTS[f.name])
    with gr.Accordion("More training settings", open=False):
        _rows_of([f for f in fields(TrainConfig) if f.name not in MAIN + HARDWARE], comps)
    with gr.Accordion("Hardware and launch (GPUs, DeepSpeed, FSDP, nodes)", open=False):
        _rows_of([f for f in fields(TrainConfig) if f.name in HARDWARE], comps)
    return comps


class _Watch(NamedTuple):
    refresh_btn: gr.Button
    preview_btn: gr.Button
    start_btn: gr.Button
    stop_btn: gr.Button
    resume_btn: gr.Button
    estimate_md: gr.Markdown
    preview: gr.Code
    run_id: gr.State
    status: gr.HTML
    plot: gr.LinePlot
    log: gr.Code


def _layout_watch() -> _Watch:
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
    return _Watch(refresh_btn, preview_btn, start_btn, stop_btn, resume_btn, estimate_md, preview, run_id,
                  status, plot, log)


class _Runs(NamedTuple):
    table: gr.Dataframe
    compare: gr.Dropdown
    compare_btn: gr.Button
    diff_table: gr.Dataframe
    compare_plot: gr.LinePlot


def _layout_runs() -> _Runs:
    with gr.Accordion("Runs: compare settings and curves", open=False):
        table = gr.Dataframe(headers=RUN_COLUMNS, interactive=False, elem_id="train-runs")
        with gr.Row():
            compare = gr.Dropdown([], multiselect=True, label="Runs to compare", elem_id="train-compare")
            compare_btn = gr.Button("Compare", scale=0)
        diff_table = gr.Dataframe(headers=["setting", "first run", "second run"], interactive=False)
        compare_plot = gr.LinePlot(x="step", y="value", color="curve", title="Loss by run", height=260)
    return _Runs(table, compare, compare_btn, diff_table, compare_plot)


class _Outputs(NamedTuple):
    ckpt: gr.Dropdown
    merge_btn: gr.Button
    repo: gr.Textbox
    token: gr.Textbox
    push_btn: gr.Button
    card_btn: gr.Button
    out_md: gr.Markdown


def _layout_outputs(ctx: StudioContext) -> _Outputs:
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
    return _Outputs(ckpt, merge_btn, repo, token, push_btn, card_btn, out_md)


def build(ctx: StudioContext) -> None:
    gr.Markdown("Fine-tune a registered model on a frozen dataset. **Preview** shows the exact "
                "`accelerate launch` command, its config files and a memory estimate; **Start** saves "
                "them with the run and queues it behind runs on the same devices.")
    comps = _layout_form()
    form = [comps[n] for n in NAMES]
    ui = _layout_watch()
    runs = _layout_runs()
    out = _layout_outputs(ctx)
    timer = gr.Timer(POLL_S, active=False)   # on only while the followed run can still change

    picked = [comps[n] for n in PICKED]
    refresh_out = picked + [runs.table, runs.compare, out.ckpt]
    ui.refresh_btn.click(refresh_lists, picked, refresh_out)
    ctx.on_load(refresh_lists, picked, refresh_out)
    shown = [ui.status, ui.plot, ui.log, timer]
    ctx.on_load(follow_newest, ui.run_id, [ui.run_id, *shown])
    ui.preview_btn.click(preview_run, form, [ui.estimate_md, ui.preview], api_name="do_preview")
    ui.start_btn.click(start_run, form, [ui.run_id, ui.estimate_md, ui.preview, ui.status],
                       api_name="do_start").then(
        poll_run, ui.run_id, shown)
    ui.stop_btn.click(stop_run, ui.run_id, ui.status, api_name="do_stop").then(poll_run, ui.run_id, shown)
    ui.resume_btn.click(resume_run, ui.run_id, ui.status, api_name="do_resume").then(poll_run, ui.run_id, shown)
    timer.tick(poll_run, ui.run_id, shown, show_progress="hidden")
    runs.compare_btn.click(compare_runs, runs.compare, [runs.diff_table, runs.compare_plot], api_name="do_compare")
    runs.table.select(select_run, runs.table, [ui.run_id, ui.status]).then(poll_run, ui.run_id, shown)
    out.merge_btn.click(merge_checkpoint, out.ckpt, out.out_md, api_name="do_merge")
    out.push_btn.click(push_checkpoint, [out.ckpt, out.repo, out.token], out.out_md, api_name="do_push")
    out.card_btn.click(preview_model_card, out.ckpt, out.out_md)


if __name__ == "__main__":   # python -m studio.train_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
