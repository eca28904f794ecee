"""Compare tab: one leaderboard joining pass@1, syntax validity, judge score and arena Elo per model,
the judge's category × model table (DreamerGPT's README table) with a plot, and CSV/Markdown
export. The same table is `python -m evals compare` (evals.compare builds it for both:
`leaderboard`, `table_rows`, `category_rows`, `to_markdown`, `to_csv`).

Above it sits the own-code verdict (studio.owncode_panel.build_compare). A click on a number opens
the eval it came from: the Evals tab's drill-down or judge panel (offered on ctx.shared by the
Evals tab, so this tab still builds and runs alone without it), or the Chat tab's arena.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

import gradio as gr

from pipeline.store import open_store
from studio.common import StudioContext, ui_errors

TITLE = "Compare"
# After a click on a number opens its eval in another tab, bring the drill-down into view: the
# handler names the target in a marker element, this reads it once the tab has rendered.
SCROLL_TO_TARGET = """() => { setTimeout(() => {
  const marker = document.querySelector('#compare-scroll-target [data-target]');
  const target = marker && document.querySelector(marker.dataset.target);
  if (target) target.scrollIntoView({behavior: 'smooth', block: 'start'});
}, 500); }"""
NO_CATEGORIES = "No judged eval yet: the category table appears after one (Evals tab → LLM judge)."


def scroll_marker(selector: str) -> str:
    """The marker SCROLL_TO_TARGET reads: the CSS selector of what to bring into view."""
    return f"<span data-target='{selector}'></span>"


def board_for(label: str | None) -> dict:
    """The leaderboard with the category table of the judged eval `label` names (default: the latest)."""
    from evals.compare import leaderboard

    return leaderboard(open_store(), int(label.split(" · ")[0]) if label else None)


def category_markdown(board: dict) -> str:
    """The board's warnings, then its judge-score-by-category section (or why there is none)."""
    from evals.compare import to_markdown

    parts = to_markdown(board).split("## Judge scores by category", 1)
    text = "## Judge scores by category" + parts[1] if len(parts) == 2 else NO_CATEGORIES
    return "".join(f"⚠ **Warning:** {w}.\n\n" for w in board.get("warnings", ())) + text


# --- handlers ------------------------------------------------------------------------------------

@ui_errors
def refresh(label: str | None = None) -> tuple:
    """The judged-eval picker (runs with results; keeps `label` while listed), the leaderboard, the
    category markdown and the bar plot (hidden when no judged eval, or an unreliable one, is shown)."""
    import pandas as pd

    from evals.compare import COLUMNS, category_rows, table_rows

    runs = [f"{r['id']} · {r['mode']} · {', '.join(r['contestants'])} by {r['judge']}"
            for r in open_store().list_judge_runs() if r["metrics"]]
    label = label if label in runs else None
    board = board_for(label)
    rows = table_rows(board)
    long = []
    if board["categories"]:
        header, cat_rows = category_rows(board)
        long = [{"category": r[0], "model": m, "score": v} for r in cat_rows
                for m, v in zip(header[1:], r[1:], strict=False) if v is not None]
    # No judged eval, or one whose own figures void it: no bars (bare axes or void scores say nothing).
    shown = bool(long) and not board.get("judge_unreliable")
    return (gr.update(choices=runs, value=label), gr.update(value=rows or None, headers=COLUMNS),
            category_markdown(board), gr.BarPlot(value=pd.DataFrame(long, columns=["category", "model", "score"]),
                                                 visible=shown))


@ui_errors
def export(label: str | None) -> list[str]:
    """Write the board as leaderboard.csv and leaderboard.md in a new temporary folder; their paths."""
    from evals.compare import to_csv, to_markdown

    board = board_for(label)
    out = Path(tempfile.mkdtemp(prefix="compare-"))
    (out / "leaderboard.csv").write_text(to_csv(board), encoding="utf-8")
    (out / "leaderboard.md").write_text(to_markdown(board) + "\n", encoding="utf-8")
    return [str(out / "leaderboard.csv"), str(out / "leaderboard.md")]


@ui_errors
def open_source(label: str | None, evt: gr.SelectData) -> tuple:
    """A click on a board cell: (the tab to show, the Evals tab's eval pick, the judge panel's run
    pick, the judge accordion, the scroll marker). A number opens its eval; any other cell keeps
    everything as it is."""
    from evals.compare import COLUMNS
    from evals.passk.report import eval_rows
    from studio.evals_tab import eval_labels
    from studio.judge_panel import run_label

    column = COLUMNS[evt.index[1]] if evt.index[1] < len(COLUMNS) else None
    model = (evt.row_value or [None])[0]
    row: dict = next((r for r in board_for(label)["rows"] if r["model"] == model), {})
    source = row.get(column) if column not in (None, "model", "sources") else None
    keep = (gr.skip(),) * 5
    if not source:
        return keep
    if column == "arena Elo":
        return gr.Tabs(selected="chat"), *keep[1:4], scroll_marker("#chat-leaderboard")
    if column == "judge score":
        runs = [run_label(r) for r in open_store().list_judge_runs()]
        run = next(x for x in runs if x.startswith(f"{source['run']} · "))
        return (gr.Tabs(selected="evals"), gr.skip(), gr.update(choices=runs, value=run), gr.Accordion(open=True),
                scroll_marker("#judge-results"))
    labels = eval_labels(eval_rows(open_store()))
    pick = next((x for x in labels if x.startswith(f"{source['eval']} · ")), None)
    if pick is None:
        raise gr.Error(f"eval {source['eval']} is no longer listed")
    gr.Info(f"Eval {source['eval']} opened below in the Evals tab's drill-down")
    return gr.Tabs(selected="evals"), gr.update(choices=labels, value=pick), gr.skip(), gr.skip(), \
        scroll_marker("#evals-pick")


# --- layout and wiring ---------------------------------------------------------------------------

class Board(NamedTuple):
    run_pick: gr.Dropdown
    refresh_btn: gr.Button
    table: gr.Dataframe
    category_md: gr.Markdown
    plot: gr.BarPlot
    marker: gr.HTML
    export_btn: gr.Button
    files: gr.File


def _layout_board() -> Board:
    from evals.compare import COLUMNS

    gr.Markdown("**Click a number** to open the eval it came from (pass@1 and validity: the Evals tab's "
                "drill-down; judge score: the judged eval; arena Elo: the Chat tab's arena). The *sources* "
                "column names them too, for the exports and `python -m evals passk show ID` / "
                "`python -m evals judge show ID`.")
    with gr.Row():
        run_pick = gr.Dropdown([], label="Judged eval for the category table (default: the latest)", scale=4,
                               elem_id="compare-run")
        refresh_btn = gr.Button("Refresh", scale=0, elem_id="compare-refresh")
    table = gr.Dataframe(headers=COLUMNS, label="Leaderboard", interactive=False, elem_id="compare-board",
                         wrap=True)
    category_md = gr.Markdown(elem_id="compare-categories")
    plot = gr.BarPlot(x="category", y="score", color="model", label="Judge score by category",
                      elem_id="compare-plot")
    marker = gr.HTML("", elem_id="compare-scroll-target", padding=False)
    with gr.Row():
        export_btn = gr.Button("Export CSV and Markdown", elem_id="compare-export")
        files = gr.File(label="Exports", file_count="multiple", interactive=False, elem_id="compare-files")
    gr.Code("python -m evals compare --csv board.csv --markdown board.md", language="shell", lines=1,
            label="Same table from the command line")
    return Board(run_pick, refresh_btn, table, category_md, plot, marker, export_btn, files)


def _wire_open_source(ctx: StudioContext, board: Board) -> None:
    """A click on a number opens its eval in the Evals tab (when that tab offered its pickers)."""
    shared = ctx.shared
    if shared.eval_pick is None or shared.judge is None or ctx.tabs is None:
        return
    judge = shared.judge
    opened = board.table.select(open_source, [board.run_pick],
                                [ctx.tabs, shared.eval_pick, judge.pick, judge.accordion, board.marker])
    opened.success(judge.show, [judge.pick], judge.outputs).then(None, None, None, js=SCROLL_TO_TARGET)


def build(ctx: StudioContext) -> None:
    """The own-code verdict, then the leaderboard with its category table, plot and exports."""
    from studio import owncode_panel

    owncode_panel.build_compare(ctx)   # the verdict on the user's own held-out code comes first
    board = _layout_board()
    _wire_open_source(ctx, board)
    outputs = [board.run_pick, board.table, board.category_md, board.plot]
    board.refresh_btn.click(refresh, [board.run_pick], outputs)
    board.run_pick.input(refresh, [board.run_pick], outputs)
    board.export_btn.click(export, [board.run_pick], [board.files])
    ctx.on_load(refresh, [board.run_pick], outputs)


if __name__ == "__main__":   # python -m studio.compare_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
