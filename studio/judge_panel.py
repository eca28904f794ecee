"""LLM judge panel (inside the Evals tab): pick a judge, contestants, a mode and a suite; start the
judged eval as a job; see scores per model and category with the bias figures; import or write a
judge suite.

Every action calls evals.judge, the same functions `python -m evals judge …` uses:
`estimate_judging` and `start_judging` (evals.judge.run) for the form's two buttons,
`import_judge_suite` and `save_judge_suite` (evals.judge.suites) for the suite editor, and
`assess_run` (evals.judge.reliability) with `format_bias` (evals.judge.cli) to show a run. The
handlers below are plain functions of the form's values; `build` lays the panel out and wires them.
The Compare tab opens a run here through what `build` returns (studio.shared.JudgeLinks).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import gradio as gr

from pipeline.store import open_store
from studio.common import StudioContext, ui_errors
from studio.shared import JudgeLinks

if TYPE_CHECKING:
    from evals.judge.run import JudgeConfig

POLL_S = 1.5
MODE_HELP = ("multi: up to 5 systems side by side, 0–10 each (DreamerGPT) · single: 1–10 per answer, "
             "reference-guided (MT-bench) · pairwise: A/B/tie in both orders · rubric: syntax (validity "
             "checker), functionality, verbosity (godot-dodo)")
SUITE_COLUMNS = ["id", "category", "language", "instruction", "reference"]
# What a refresh fills, in this order: the form's three pickers, the run picker, and what shows a run.
REFRESH_SIZE = 6


def run_label(run: dict) -> str:
    """A run as the pickers list it ("7 · single · alpha, beta by judge · done")."""
    return f"{run['id']} · {run['mode']} · {', '.join(run['contestants'])} by {run['judge']} · {run['status']}"


def job_line(job: dict | None) -> str:
    """The judge job as one line (#judge-job, with its status as data-status), or nothing."""
    from pipeline import jobs

    if not job:
        return ""
    text = job.get("error") if job["status"] in ("failed", "cancelled", "interrupted") else job.get("message")
    return (f"<div id='judge-job' data-status='{html.escape(job['status'])}'>#{job['id']} "
            f"<b>{html.escape(job['status'])}</b> {html.escape(jobs.format_progress(job))} "
            f"{html.escape(text or '')}</div>")


def reliability_markdown(run: dict) -> str:
    """A judged eval whose own figures void it says so above its numbers, with the reasons."""
    from evals.judge.reliability import assess_run

    a = assess_run(run)
    if not a["reliable"]:
        items = "".join(f"\n> - {r}" for r in a["reasons"] + a["flags"])
        return (f"<div id='judge-unreliable'></div>\n\n> ⚠️ **Unreliable — do not read these scores as a "
                f"result.** Its own figures void it:{items}\n\n")
    if a["flags"]:
        return "> **Flagged:** " + "; ".join(a["flags"]) + "\n\n"
    return ""


def results_markdown(run: dict) -> str:
    """A run's scores per model, its judgment counts and spend, the by-turn table and the bias figures."""
    from evals.judge.cli import format_bias

    m = run["metrics"] or {}
    if not m:
        return f"Judged eval {run['id']} is **{run['status']}** — no results yet." + (
            f" {run['error']}" if run["error"] else "")
    rows = "\n".join(f"| {model} | {s['score']} | {s['judged']} | {s.get('syntax', '')} | {s.get('verbosity', '')} |"
                     for model, s in m["models"].items())
    counts = ", ".join(f"{k} {v}" for k, v in m["counts"].items())
    return (reliability_markdown(run) + f"**Judged eval {run['id']}** · {run['mode']} · judge `{run['judge']}` · suite {run['suite']} · "
            f"{run['status']} · judgments: {counts} · ${(m.get('spend') or {}).get('cost', 0):.4f}\n\n"
            "| model | score | judged | syntax | verbosity |\n|---|---|---|---|---|\n" + rows
            + turns_markdown(m)
            + "\n\n**Bias figures**\n\n" + "\n".join("- " + line.strip() for line in format_bias(m["bias"])))


def turns_markdown(metrics: dict) -> str:
    """Multi-turn suites (MT-bench): the score per turn, and per category within each turn."""
    table = metrics.get("turns")
    if not table:
        return ""
    models = sorted({model for row in table.values() for model in row})

    def cell(c: dict | None) -> str:
        if not c:
            return ""
        return f"{c['mean']:.2f} (n={c['n']})" if "mean" in c else f"{c.get('wins', 0)}W {c.get('losses', 0)}L {c.get('ties', 0)}T"

    head = "| turn | " + " | ".join(models) + " |\n|---|" + "---|" * len(models)
    rows = "\n".join(f"| {key} | " + " | ".join(cell(row.get(m)) for m in models) + " |" for key, row in table.items())
    return "\n\n**By turn**\n\n" + head + "\n" + rows


def category_table(run: dict) -> tuple[list[str], list[list]]:
    """The header (category, then each model) and rows of a run's score per category × model."""
    m = run["metrics"] or {}
    models = list(m.get("models") or {})
    return ["category", *models], [[c, *[v.get(x) for x in models]] for c, v in (m.get("categories") or {}).items()]


# --- handlers: plain values in, plain values (or gr.update) out ---------------------------------

def choices() -> tuple[list[str], list[str], list[str]]:
    """The store's model names, judge suite names (the built-in one always first) and run labels."""
    from evals.judge.suites import BUILTIN_NAME

    store = open_store()
    models = [m["name"] for m in store.list_models()]
    suites = [s["name"] for s in store.list_judge_suites()] or [BUILTIN_NAME]
    if BUILTIN_NAME not in suites:
        suites.insert(0, BUILTIN_NAME)
    runs = [run_label(r) for r in store.list_judge_runs()]
    return models, suites, runs


@ui_errors
def refresh(current_run: str | None = None) -> tuple:
    """Fill the judge, contestants and suite pickers and the run picker (keeping `current_run`
    while it is listed, else the newest run), and show the picked run."""
    models, suites, runs = choices()
    pick = current_run if current_run in runs else (runs[0] if runs else None)
    return (gr.update(choices=models), gr.update(choices=models), gr.update(choices=suites),
            gr.update(choices=runs, value=pick), *show(pick))


@ui_errors
def show(label: str | None) -> tuple[str, dict]:
    """The results markdown and the category × model table of the run picked by `label`."""
    if not label:
        return "No judged evals yet.", gr.update(value=None)
    run = open_store().get_judge_run(int(label.split(" · ")[0]))
    header, rows = category_table(run)
    return results_markdown(run), gr.update(value=rows or None, headers=header)


def judge_config(j: str | None, cs: list[str] | None, m: str, s: str, lim: float | None, bud: float | None,
                 conc: float | None, con: bool = True) -> JudgeConfig:
    """The form's values as a validated JudgeConfig (a bad value raises its ConfigError)."""
    from evals.judge.run import JudgeConfig

    return JudgeConfig.from_dict({"judge": j or "", "contestants": list(cs or []), "mode": m, "suite": s,
                                  "limit": int(lim or 0), "budget_usd": bud or None, "concurrency": int(conc or 1),
                                  "constrain_verdicts": bool(con)})


@ui_errors
def estimate(j: str | None, cs: list[str] | None, m: str, s: str, lim: float | None, bud: float | None,
             conc: float | None, con: bool) -> str:
    """What the judged eval would ask and cost, before anything is sent."""
    from evals.judge.run import estimate_judging

    return estimate_judging(open_store(), judge_config(j, cs, m, s, lim, bud, conc, con)).summary().replace(
        "snippets", "requests")


@ui_errors
def start(j: str | None, cs: list[str] | None, m: str, s: str, lim: float | None, bud: float | None,
          conc: float | None, con: bool, key: str | None) -> tuple:
    """Start the judged eval as a job: (job id, its status line, the same command line, a running
    timer). The API key goes to the job's environment only, never to the store."""
    from evals.judge.run import start_judging

    cfg = judge_config(j, cs, m, s, lim, bud, conc, con)
    store = open_store()
    run_id, job_id = start_judging(store, cfg, api_key=(key or "").strip() or None)
    gr.Info(f"Judged eval {run_id} started as job {job_id}")
    return (job_id, job_line(store.get_job(job_id)), cfg.command_line("python -m evals judge run")
            + " --wait", gr.Timer(active=True))


@ui_errors
def poll(job_id: int | None, current_run: str | None) -> tuple:
    """The timer's tick: the job's line and whether to keep ticking; once the job has ended, a
    refresh (the finished run shows) — else every refresh output is left as it is."""
    if job_id is None:
        return "", gr.Timer(active=False), *[gr.update()] * REFRESH_SIZE
    job = open_store().get_job(job_id)
    running = job["status"] in ("queued", "running")
    return (job_line(job), gr.Timer(active=running),
            *(refresh(current_run) if not running else [gr.update()] * REFRESH_SIZE))


@ui_errors
def import_file(f: str | None, name: str | None, refs: str | None = None) -> dict:
    """Import a judge suite file (with MT-bench reference answers, optionally); picks it."""
    from evals.judge.suites import import_judge_suite

    if not f:
        raise gr.Error("Choose a suite file first")
    saved = import_judge_suite(open_store(), (name or "").strip() or Path(f).stem, f, references=refs or None)
    gr.Info(f"Imported judge suite {saved['name']}: {saved['items']} items")
    return gr.update(choices=choices()[1], value=saved["name"])


@ui_errors
def save_written(rows, name: str | None) -> dict:
    """Save the items written in the table (a DataFrame, or a list of rows) as a judge suite; picks it."""
    from evals.judge.suites import save_judge_suite

    name = (name or "").strip()
    if not name:
        raise gr.Error("Give the suite a name")
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else \
        [dict(zip(SUITE_COLUMNS, r, strict=False)) for r in (rows or [])]
    saved = save_judge_suite(open_store(), name, records)
    gr.Info(f"Saved judge suite {saved['name']}: {saved['items']} items")
    return gr.update(choices=choices()[1], value=saved["name"])


# --- layout --------------------------------------------------------------------------------------

class JudgeForm(NamedTuple):
    judge: gr.Dropdown
    contestants: gr.Dropdown
    suite: gr.Dropdown
    mode: gr.Radio
    limit: gr.Number
    budget: gr.Number
    concurrency: gr.Number
    api_key: gr.Textbox
    constrain: gr.Checkbox
    estimate_btn: gr.Button
    start_btn: gr.Button

    def inputs(self) -> list:
        """What estimate and start take, in their parameters' order (start adds the API key)."""
        return [self.judge, self.contestants, self.mode, self.suite, self.limit, self.budget,
                self.concurrency, self.constrain]


class JudgeView(NamedTuple):
    estimate_md: gr.Markdown
    command: gr.Code
    status: gr.HTML
    job_state: gr.State
    timer: gr.Timer
    run_pick: gr.Dropdown
    refresh_btn: gr.Button
    results: gr.Markdown
    categories: gr.Dataframe


class SuiteEditor(NamedTuple):
    suite_file: gr.File
    refs_file: gr.File
    suite_name: gr.Textbox
    import_btn: gr.Button
    suite_rows: gr.Dataframe
    save_btn: gr.Button


def _layout_form() -> JudgeForm:
    from evals.judge.requests import MODES
    from evals.judge.run import JudgeConfig
    from evals.judge.suites import BUILTIN_NAME

    with gr.Row():
        judge = gr.Dropdown([], label="Judge model", scale=2, elem_id="judge-model")
        contestants = gr.Dropdown([], multiselect=True, label="Contestants (1–5)", scale=3,
                                  elem_id="judge-contestants")
        suite = gr.Dropdown([BUILTIN_NAME], value=BUILTIN_NAME, label="Judge suite", scale=2, elem_id="judge-suite")
    with gr.Row():
        mode = gr.Radio(list(MODES), value="single", label="Mode", info=MODE_HELP, scale=3, elem_id="judge-mode")
        limit = gr.Number(value=0, precision=0, label="Items (0 = all; spread across categories)", scale=1, elem_id="judge-limit")
        budget = gr.Number(value=0, label="Budget $ (0 = no cap)", scale=1)
        concurrency = gr.Number(value=JudgeConfig.default("concurrency"), precision=0, label="Requests in flight",
                                scale=1)
    with gr.Row():
        api_key = gr.Textbox(label="API key for an endpoint judge (this session only; never stored)",
                             type="password", scale=3)
        constrain = gr.Checkbox(value=JudgeConfig.default("constrain_verdicts"), scale=2,
                                label="Local judge: constrained verdicts", elem_id="judge-constrain",
                                info=JudgeConfig.help("constrain_verdicts"))
    with gr.Row():
        estimate_btn = gr.Button("Estimate cost", scale=1, elem_id="judge-estimate")
        start_btn = gr.Button("Start judged eval", variant="primary", scale=3, elem_id="judge-run")
    return JudgeForm(judge, contestants, suite, mode, limit, budget, concurrency, api_key, constrain,
                     estimate_btn, start_btn)


def _layout_view() -> JudgeView:
    estimate_md = gr.Markdown(elem_id="judge-estimate-text")
    command = gr.Code(label="Same thing from the command line", language="shell", lines=1, elem_id="judge-cli")
    status = gr.HTML(elem_id="judge-status")
    job_state = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)
    with gr.Row():
        run_pick = gr.Dropdown([], label="Judged eval", scale=4, elem_id="judge-run-pick")
        refresh_btn = gr.Button("Refresh", scale=0)
    results = gr.Markdown(elem_id="judge-results")
    categories = gr.Dataframe(label="Judge score by category × model", interactive=False, elem_id="judge-categories")
    return JudgeView(estimate_md, command, status, job_state, timer, run_pick, refresh_btn, results, categories)


def _layout_suite_editor() -> SuiteEditor:
    with gr.Accordion("Import or write a judge suite", open=False, elem_id="judge-suite-editor"):
        with gr.Row():
            suite_file = gr.File(label="Suite JSONL (id, category, instruction, language?, reference?) or "
                                       "MT-bench's question.jsonl (question_id, category, turns)",
                                 file_types=[".jsonl"], type="filepath")
            refs_file = gr.File(label="Reference answers (optional: MT-bench's reference_answer/*.jsonl)",
                                file_types=[".jsonl"], type="filepath", elem_id="judge-references-file")
            suite_name = gr.Textbox(label="Suite name", elem_id="judge-suite-name")
        import_btn = gr.Button("Import file")
        # (5, "fixed") is typed as an int but is still the one form that fixes the columns: Gradio 6
        # warns that its replacement, column_limits, is not implemented yet.
        suite_rows = gr.Dataframe(headers=SUITE_COLUMNS, datatype=["str"] * 5, row_count=3,
                                  column_count=(5, "fixed"),  # type: ignore[arg-type]
                                  interactive=True, label="…or write items here", elem_id="judge-suite-table")
        save_btn = gr.Button("Save written suite", elem_id="judge-suite-save")
    return SuiteEditor(suite_file, refs_file, suite_name, import_btn, suite_rows, save_btn)


# --- wiring --------------------------------------------------------------------------------------

def build(ctx: StudioContext, accordion: gr.Accordion) -> JudgeLinks:
    """Lay the panel out (inside `accordion`, which the Evals tab opened) and wire it; returns what
    the Compare tab needs to open a run here (the Evals tab puts it on ctx.shared.judge)."""
    form = _layout_form()
    view = _layout_view()
    editor = _layout_suite_editor()
    outputs = [form.judge, form.contestants, form.suite, view.run_pick, view.results, view.categories]
    form.estimate_btn.click(estimate, form.inputs(), [view.estimate_md])
    form.start_btn.click(start, [*form.inputs(), form.api_key],
                         [view.job_state, view.status, view.command, view.timer])
    view.timer.tick(poll, [view.job_state, view.run_pick], [view.status, view.timer, *outputs])
    view.refresh_btn.click(refresh, [view.run_pick], outputs)
    view.run_pick.input(show, [view.run_pick], [view.results, view.categories])
    editor.import_btn.click(import_file, [editor.suite_file, editor.suite_name, editor.refs_file], [form.suite])
    editor.save_btn.click(save_written, [editor.suite_rows, editor.suite_name], [form.suite])
    ctx.on_load(refresh, [view.run_pick], outputs)
    return JudgeLinks(accordion, view.run_pick, show, [view.results, view.categories])
