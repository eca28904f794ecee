"""Own code (issue 24): the Evals tab's panel that scores a model on a dataset's held-out test split
with a per-item drill-down, and the Compare page's paired verdict between two such evals.

Thin handlers over evals.owncode, the same functions as `python -m evals owncode …`:
`submit_owncode` (evals.owncode.run) starts the scoring job; `eval_rows`, `item_rows` and
`item_detail` (evals.owncode.report) fill the tables and the drill-down; `compare_owncode`
(evals.owncode.compare) gives the paired verdict. `build_run` and `build_compare` lay the two parts
out and wire these handlers.
"""
from __future__ import annotations

from typing import NamedTuple

import gradio as gr

from pipeline.store import Store, open_store
from studio.common import StudioContext, keep_choice, ui_errors
from studio.widgets import config_number, job_status_html, on_start

POLL_S = 1.5
HELP = ("Each frozen dataset holds out a test split of your own code (whole repos or files, with "
        "near-duplicates removed from train). Any model answers each held-out instruction; the answer is "
        "scored against the human-written code: chrF, exact match, syntax validity, the reference's loss "
        "under the model (local models) and the function's own doctests, run in the sandbox.")
REFRESH_SIZE = 4   # model, dataset, evals table, eval pick


def dataset_choices(store: Store) -> list[str]:
    """The frozen datasets that hold out a test split, as "name@version"."""
    return [f"{d['name']}@{d['version']}" for d in store.list_datasets() if d.get("test_size")]


def eval_choices(store: Store) -> list[str]:
    """Every own-code eval's label (newest first), as the pickers list them."""
    from evals.owncode.report import eval_label

    return [eval_label(e) for e in store.list_owncode_evals()]


# --- handlers of the run panel ---------------------------------------------------------------------

@ui_errors
def refresh(current_model: str | None = None, current_dataset: str | None = None,
            current_pick: str | None = None) -> tuple:
    """The model and dataset choices, the evals table and the eval picker, keeping each current pick."""
    from evals.owncode.report import eval_rows

    store = open_store()
    models, datasets, evals_ = [m["name"] for m in store.list_models()], dataset_choices(store), eval_choices(store)
    return (gr.update(choices=models, value=keep_choice(current_model, models)),
            gr.update(choices=datasets, value=keep_choice(current_dataset, datasets)),
            eval_rows(store) or None, gr.update(choices=evals_, value=keep_choice(current_pick, evals_)))


@ui_errors
def start(m: str | None, d: str | None, mt: float | None, lim: float | None) -> tuple:
    """Start the own-code eval job: (job id, its status row, the same command line, a running timer)."""
    from evals.owncode.run import OwnCodeConfig, submit_owncode

    config = OwnCodeConfig.from_dict({"model": m or "", "dataset": d or "", "max_new_tokens": mt, "limit": lim})
    store = open_store()
    job_id = submit_owncode(store, config)
    cli = config.command_line("python -m evals owncode run") + " --wait"
    return job_id, job_status_html(store.get_job(job_id), "owncode-job-row"), cli, gr.Timer(active=True)


@ui_errors
def poll(job_id: int | None, m: str | None, d: str | None, p: str | None) -> tuple:
    """The timer's tick: the job's row and whether to keep ticking; once the job has ended, a
    refresh that picks the eval it made."""
    if job_id is None:
        return "", gr.Timer(active=False), *[gr.update()] * REFRESH_SIZE
    store = open_store()
    job = store.get_job(job_id)
    running = job["status"] in ("queued", "running")
    picked = p
    if not running:
        done = store.owncode_eval_for_job(job_id)
        if done:
            from evals.owncode.report import eval_label

            picked = eval_label(done)
    return (job_status_html(job, "owncode-job-row"), gr.Timer(active=running),
            *(refresh(m, d, picked) if not running else [gr.update()] * REFRESH_SIZE))


@ui_errors
def pick_eval(label: str | None) -> list[list] | None:
    """The items of the picked eval, lowest chrF first (nothing when none is picked)."""
    from evals.owncode.report import item_rows, label_id

    eval_id = label_id(label)
    return item_rows(open_store(), eval_id) if eval_id is not None else None


@ui_errors
def show_item(label: str | None, evt: gr.SelectData) -> tuple:
    """The drill-down of the item row a person clicked: scores, instruction, reference, answer,
    diff and notes; nothing changes without a picked eval or row."""
    from evals.owncode.report import item_detail, label_id

    row, eval_id = evt.row_value or [], label_id(label)
    if eval_id is None or not row:
        return tuple([gr.skip()] * 6)
    d = item_detail(open_store(), eval_id, int(row[0]))
    return (d["scores"], d["instruction"], d["reference"], d["answer"], d["diff"], d["notes"])


# --- layout and wiring of the run panel --------------------------------------------------------------

class RunPanel(NamedTuple):
    model: gr.Dropdown
    dataset: gr.Dropdown
    max_tokens: gr.Number
    limit: gr.Number
    run_btn: gr.Button
    command: gr.Code
    status: gr.HTML
    job_state: gr.State
    timer: gr.Timer
    table: gr.Dataframe
    pick: gr.Dropdown
    items: gr.Dataframe
    detail: list   # scores, instruction, reference, answer, diff, notes: what show_item fills


def _layout_run() -> RunPanel:
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
    return RunPanel(model, dataset, max_tokens, limit, run_btn, command, status, job_state, timer, table, pick,
                    items, [scores, instruction, reference, answer, diff, notes])


def build_run(ctx: StudioContext) -> None:
    """The run panel (inside the Evals tab's own-code accordion): the form, the job, the evals
    table and the per-item drill-down."""
    p = _layout_run()
    outputs = [p.model, p.dataset, p.table, p.pick]
    ctx.on_load(refresh, [p.model, p.dataset, p.pick], outputs)
    on_start(p.run_btn, start, [p.model, p.dataset, p.max_tokens, p.limit], [p.job_state, p.status, p.command, p.timer])
    p.timer.tick(poll, [p.job_state, p.model, p.dataset, p.pick], [p.status, p.timer, *outputs])
    p.pick.change(pick_eval, p.pick, p.items)
    p.items.select(show_item, p.pick, p.detail)


# --- the Compare page's part: a paired verdict between two own-code evals ------------------------------

def comparison_markdown(store: Store, a_label: str | None, b_label: str | None) -> str:
    """The paired comparison of two own-code evals as Markdown: headline, then one row per score
    with its difference, 95 % interval, p-value, wins/ties/losses and verdict."""
    from evals.owncode.compare import compare_owncode
    from evals.owncode.report import label_id

    a_id, b_id = label_id(a_label), label_id(b_label)
    if a_id is None or b_id is None:
        raise gr.Error("Pick the baseline and the candidate own-code evals")
    r = compare_owncode(store, a_id, b_id)
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


@ui_errors
def refresh_compare(current_a: str | None = None, current_b: str | None = None) -> tuple[dict, dict]:
    """Both pickers' choices; by default the newest eval is the candidate and the one before it the
    baseline (the latest is usually the fine-tune, the one before it the base)."""
    choices = eval_choices(open_store())
    default_b = keep_choice(current_b, choices)
    default_a = current_a if current_a in choices else (choices[1] if len(choices) > 1 else None)
    return gr.update(choices=choices, value=default_a), gr.update(choices=choices, value=default_b)


@ui_errors
def compare(a_label: str | None, b_label: str | None) -> str:
    """The paired verdict between the baseline and the candidate eval (comparison_markdown)."""
    return comparison_markdown(open_store(), a_label, b_label)


def build_compare(ctx: StudioContext) -> None:
    """The own-code verdict at the top of the Compare tab: two eval pickers and the verdict."""
    gr.Markdown("### Your held-out code: base vs tuned, with its confidence")
    with gr.Row():
        a = gr.Dropdown([], label="Baseline own-code eval (e.g. the base model)", elem_id="owncode-cmp-a")
        b = gr.Dropdown([], label="Candidate own-code eval (e.g. the fine-tune)", elem_id="owncode-cmp-b")
        go = gr.Button("Compare", scale=0, elem_id="owncode-compare")
    verdict = gr.Markdown(elem_id="owncode-verdict")
    gr.Code("python -m evals owncode compare BASE_ID TUNED_ID", language="shell", lines=1,
            label="Same verdict from the command line")
    ctx.on_load(refresh_compare, [a, b], [a, b])
    go.click(compare, [a, b], verdict)
