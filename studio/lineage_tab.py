"""Lineage tab: any score back to the commits it came from, any repo or pair forward to the scores
it fed. Click a row to re-centre on it: a whole chain is a few clicks either way.

Handlers call pipeline.lineage.trace (`trace`, `level_rows`, `starting_points`), the same as
`python -m pipeline lineage REF`.
"""
from __future__ import annotations

import html
import shlex

import gradio as gr

from pipeline.lineage.trace import Lineage, level_rows, starting_points, trace
from pipeline.store import open_store
from studio.common import StudioContext, keep_choice, ui_errors

TITLE = "Lineage"
COLUMNS = ["level", "ref", "what", "detail"]


def sources_markdown(lineage: Lineage) -> str:
    """The answer first: the repos and whole commits a trace stands on, above the long tables."""
    if not lineage.sources:
        return "**Stands on:** no repository recorded (imported or hand-written pairs, or a model from elsewhere)."
    rows = []
    for src in lineage.sources:
        commit = f"`{src.commit}`" if src.commit else "working tree (no commit recorded)"
        mined = f" · mined commits {', '.join(f'`{c}`' for c in src.mined_commits)}" if src.mined_commits else ""
        rows.append(f"| {html.escape(src.repo)} | {commit}{mined} | {html.escape(src.license)} | "
                    f"{html.escape(src.url)} | `{src.ref}` |")
    return ("**Stands on** — the code this came from:\n\n| repository | commit | license | where | ref |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows))


# --- handlers ----------------------------------------------------------------------------------

@ui_errors
def show(ref: str | None) -> tuple:
    """Trace `ref` (kind:id): (the pick, re-set to the canonical ref; the focus heading; what it
    stands on; upstream rows; downstream rows; the same command for the CLI)."""
    ref = (ref or "").strip()
    if not ref:
        raise gr.Error("Pick or type what to trace, e.g. eval:3 or repo:owner/name")
    lineage = trace(open_store(), ref)
    f = lineage.focus
    return (gr.update(value=f.ref), f"### {f.title}\n`{f.ref}` · {f.detail}", sources_markdown(lineage),
            level_rows(lineage.upstream), level_rows(lineage.downstream),
            shlex.join(["python", "-m", "pipeline", "lineage", f.ref]))


def recentre(evt: gr.SelectData) -> tuple:
    """A row of either table clicked: trace from its ref (the row's second cell)."""
    row = evt.row_value or []
    ref = row[1] if len(row) > 1 else ""
    if not ref:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return show(ref)


@ui_errors
def refresh(current: str | None) -> dict:
    """The starting points offered (recent evals, judge runs, runs, datasets, repos); keeps the
    current pick if still offered."""
    refs = starting_points(open_store())
    return gr.update(choices=refs, value=keep_choice(current, refs) if current else None)


# --- layout and wiring -------------------------------------------------------------------------

def build(ctx: StudioContext) -> None:
    gr.Markdown("Trace a score back to its checkpoint, run, dataset version, pairs, snippets, repos and "
                "commits, or a repo or pair forward to the datasets, runs and scores it fed. "
                "Click any row to re-centre on it.")
    with gr.Row():
        pick = gr.Dropdown([], label="Start from", allow_custom_value=True, scale=2, elem_id="lineage-pick",
                           info="recent evals, judge runs, runs, datasets and repos — or type kind:id")
        go = gr.Button("Trace", variant="primary", scale=0, elem_id="lineage-go")
    focus = gr.Markdown(elem_id="lineage-focus")
    stands_on = gr.Markdown(elem_id="lineage-sources")
    with gr.Row():
        up = gr.Dataframe(headers=COLUMNS, label="Upstream: where it came from", interactive=False, wrap=True,
                          elem_id="lineage-up")
        down = gr.Dataframe(headers=COLUMNS, label="Downstream: what it fed", interactive=False, wrap=True,
                            elem_id="lineage-down")
    command = gr.Textbox(label="The same from the command line", interactive=False, elem_id="lineage-cli")

    outputs = [pick, focus, stands_on, up, down, command]
    go.click(show, pick, outputs)
    pick.select(show, pick, outputs)
    up.select(recentre, None, outputs)
    down.select(recentre, None, outputs)
    ctx.on_load(refresh, pick, pick)


if __name__ == "__main__":   # python -m studio.lineage_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
