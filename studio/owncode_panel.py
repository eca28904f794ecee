"""Own code (issue 24): the Evals tab's panel that scores a model on a dataset's held-out test split
with a per-item drill-down, and the Compare page's paired verdict between two such evals. Thin
handlers over evals.owncode (the same functions as `python -m evals owncode …`)."""
from __future__ import annotations

import gradio as gr

from studio.common import StudioContext, keep_choice, ui_errors
from studio.widgets import config_number, job_status_html, on_start

POLL_S = 1.5
HELP = ("Each frozen dataset holds out a test split of your own code (whole repos or files, with "
        "near-duplicates removed from train). Any model answers each held-out instruction; the answer is "
        "scored against the human-written code: chrF, exact match, syntax validity, the reference's loss "
        "under the model (local models) and the function's own doctests, run in the sandbox.")


def dataset_choices(store) -> list[str]:
    return [f"{d['name']}@{d['version']}" for d in store.list_datasets() if d.get("test_size")]


def eval_choices(store) -> list[str]:
    from evals.owncode.report import eval_label

    return [eval_label(e) for e in store.list_owncode_evals()]


def build_run(ctx: StudioContext) -> None:
    from evals.owncode.report import EVAL_COLUMNS, ITEM_COLUMNS
    from evals.owncode.run import OwnCodeConfig

    gr.Markdown(HELP)
    with gr.Row():
        model = gr.Dropdown([], label="Model", scale=2, elem_id="owncode-model")
        dataset = gr.Dropdown([], label="Dataset (with a test split)", scale=2, elem_id="owncode-dataset")
        max_tokens = config_number(OwnCodeConfig, "max_new_tokens", "Max new tokens", scale=1)
        limit = config_number(OwnCodeConfig, "limit", "First N items (0 = all)", scale=1, elem_id="owncode-limit")
    run_btn = gr.Button("Answer and score the held-out code", variant="primary", elem_id="owncode-run")
    command = gr.Code(label="Same thing from the command line", language="shell", lines=1, interactive=False)
    status = gr.HTML(elem_id="owncode-job")
    job_state = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)
    table = gr.Dataframe(headers=EVAL_COLUMNS, label="Own-code evals", interactive=False, elem_id="owncode-evals")
    pick = gr.Dropdown([], label="Eval", elem_id="owncode-pick")
    items = gr.Dataframe(headers=ITEM_COLUMNS, label="Items (lowest chrF first): pick a row", interactive=False,
                         elem_id="owncode-items")
    scores = gr.Markdown(elem_id="owncode-scores")
    instruction = gr.Textbox(label="Instruction", lines=3, interactive=False)
    with gr.Row():
        reference = gr.Code(label="Reference (human-written, held out)", language="python", lines=10,
                            interactive=False, elem_id="owncode-reference")
        answer = gr.Code(label="Answer (the model's code)", language="python", lines=10, interactive=False,
                         elem_id="owncode-answer")
    diff = gr.Code(label="Diff: reference → answer", language=None, lines=8, interactive=False, elem_id="owncode-diff")
    notes = gr.Textbox(label="Validity findings and doctest output", lines=3, interactive=False)

    @ui_errors
    def refresh(current_model=None, current_dataset=None, current_pick=None):
        from evals.owncode.report import eval_rows

        store = ctx.store()
        models, datasets, evals_ = [m["name"] for m in store.list_models()], dataset_choices(store), eval_choices(store)
        return (gr.update(choices=models, value=keep_choice(current_model, models)),
                gr.update(choices=datasets, value=keep_choice(current_dataset, datasets)),
                eval_rows(store) or None, gr.update(choices=evals_, value=keep_choice(current_pick, evals_)))

    @ui_errors
    def start(m, d, mt, lim):
        from evals.owncode.run import OwnCodeConfig, submit_owncode

        config = OwnCodeConfig.from_dict({"model": m or "", "dataset": d or "", "max_new_tokens": mt, "limit": lim})
        job_id = submit_owncode(ctx.store(), config)
        cli = config.command_line("python -m evals owncode run") + " --wait"
        return job_id, job_status_html(ctx.store().get_job(job_id), "owncode-job-row"), cli, gr.Timer(active=True)

    @ui_errors
    def poll(job_id, m, d, p):
        if job_id is None:
            return "", gr.Timer(active=False), *[gr.update()] * 4
        job = ctx.store().get_job(job_id)
        running = job["status"] in ("queued", "running")
        picked = p
        if not running:
            done = ctx.store().owncode_eval_for_job(job_id)
            if done:
                from evals.owncode.report import eval_label

                picked = eval_label(done)
        return (job_status_html(job, "owncode-job-row"), gr.Timer(active=running),
                *(refresh(m, d, picked) if not running else [gr.update()] * 4))

    @ui_errors
    def pick_eval(label):
        from evals.owncode.report import item_rows, label_id

        return item_rows(ctx.store(), label_id(label)) if label else None

    @ui_errors
    def show_item(label, evt: gr.SelectData):
        from evals.owncode.report import item_detail, label_id

        row = evt.row_value or []
        if not label or not row:
            return [gr.skip()] * 6
        d = item_detail(ctx.store(), label_id(label), int(row[0]))
        return (d["scores"], d["instruction"], d["reference"], d["answer"], d["diff"], d["notes"])

    outputs = [model, dataset, table, pick]
    ctx.on_load(refresh, [model, dataset, pick], outputs)
    on_start(run_btn, start, [model, dataset, max_tokens, limit], [job_state, status, command, timer])
    timer.tick(poll, [job_state, model, dataset, pick], [status, timer, *outputs])
    pick.change(pick_eval, pick, items)
    items.select(show_item, pick, [scores, instruction, reference, answer, diff, notes])


def comparison_markdown(store, a_label: str | None, b_label: str | None) -> str:
    from evals.owncode.compare import compare_owncode
    from evals.owncode.report import label_id

    if not a_label or not b_label:
        raise gr.Error("Pick the baseline and the candidate own-code evals")
    r = compare_owncode(store, label_id(a_label), label_id(b_label))
    lines = [f"### {r['headline']}", "",
             f"{r['b']['name']} vs {r['a']['name']} on {r['items']} held-out items of {r['dataset']} "
             "(paired bootstrap 95 % interval of the mean difference; permutation-test p-value).", "",
             f"| score | {r['a']['name']} | {r['b']['name']} | difference (95 % CI) | p | wins / ties / losses | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for m in r["metrics"]:
        verdict = ("too few items" if not m["enough_items"] else
                   ("**" + (r["b"]["name"] if m["better"] == "b" else r["a"]["name"]) + " better**")
                   if m["significant"] else "no significant difference")
        lines.append(f"| {m['label']}{' (lower is better)' if not m['higher_is_better'] else ''} | {m['mean_a']:.3f} | "
                     f"{m['mean_b']:.3f} | {m['diff']:+.3f} ({m['ci'][0]:.3f} – {m['ci'][1]:.3f}) | "
                     f"{m['p']:.3g} | {m['wins']} / {m['ties']} / {m['losses']} | {verdict} |")
    return "\n".join(lines)


def build_compare(ctx: StudioContext) -> None:
    gr.Markdown("### Your held-out code: base vs tuned, with its confidence")
    with gr.Row():
        a = gr.Dropdown([], label="Baseline own-code eval (e.g. the base model)", elem_id="owncode-cmp-a")
        b = gr.Dropdown([], label="Candidate own-code eval (e.g. the fine-tune)", elem_id="owncode-cmp-b")
        go = gr.Button("Compare", scale=0, elem_id="owncode-compare")
    verdict = gr.Markdown(elem_id="owncode-verdict")
    gr.Code("python -m evals owncode compare BASE_ID TUNED_ID", language="shell", lines=1,
            label="Same verdict from the command line")

    @ui_errors
    def refresh(current_a=None, current_b=None):
        choices = eval_choices(ctx.store())
        # newest first: the latest is usually the fine-tune, the one before it the base
        default_b = keep_choice(current_b, choices)
        default_a = current_a if current_a in choices else (choices[1] if len(choices) > 1 else None)
        return gr.update(choices=choices, value=default_a), gr.update(choices=choices, value=default_b)

    ctx.on_load(refresh, [a, b], [a, b])
    go.click(ui_errors(lambda x, y: comparison_markdown(ctx.store(), x, y)), [a, b], verdict)
