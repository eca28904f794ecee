"""Pairs tab: review instruction pairs (filters, full-text search, pages, the code next to the
editable pair, approve / reject / skip that move to the next pair, bulk actions, edit history
with the label-vs-edit diff), stats plots, and the Clean, Import and Datasets panels
(studio.pairs_panels).

Calls the store's pair methods (`query_pairs`, `get_pair`, `edit_pair`, `neighbour_pair_id`,
`bulk_set_status`, `pair_stats`, `pair_history`, `label_diff`) and studio.conversation_view for
conversation pairs.

Keyboard flow: the buttons under a pair are always Save · Approve · Reject · Skip · Previous, and
Shift+Enter in the instruction, input or output box saves. An edit is checked against the text
that was on screen, so a labelling job writing the same pair can't be overwritten unseen (the
edit is refused with a message and the typed text stays in the boxes).
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

import gradio as gr

from pipeline.curate.scrub import describe_findings
from pipeline.languages import highlight
from pipeline.store import open_store
from pipeline.store.pairs import FLAG_CHOICES, STATUSES, TEXT_FIELDS
from studio import pairs_panels
from studio.common import StudioContext, ui_errors
from studio.conversation_view import messages_json, save_conversation

TITLE = "Pairs"
PAGE_SIZES = [25, 50, 100, 200]
TABLE_COLUMNS = ["id", "status", "language", "origin", "chars", "flags", "instruction"]
CHOICE_COLUMNS = ("language", "repo", "origin", "labeller")   # filter pickers filled from the store
BULK_STATUS = {"approve": "approved", "reject": "rejected", "draft": "draft"}


def filter_from_inputs(status: list | None, language: list | None, repo: list | None, origin: list | None,
                       labeller: list | None, flag: str | None, min_len: float | None, max_len: float | None,
                       search: str | None) -> dict:
    """The store's pair filter from the filter boxes."""
    return {"status": status or [], "language": language or [], "repo": repo or [], "origin": origin or [],
            "labeller": labeller or [], "flag": None if flag in (None, "", "any") else flag,
            # An empty number box arrives as 0: no limit.
            "min_len": int(min_len) if min_len else None, "max_len": int(max_len) if max_len else None,
            "search": search or None}


def table_rows(rows: list[dict]) -> list[list]:
    """Pair rows as TABLE_COLUMNS, the flags named and the instruction on one shortened line."""
    out = []
    for r in rows:
        flags = [name for name, on in (("duplicate", r["dup_group"] not in (None, r["id"])),
                                       ("contaminated", r["contaminated_by"]), ("filtered", r["flags"])) if on]
        out.append([r["id"], r["status"], r["language"] or "", r["origin"], r["chars"], ", ".join(flags),
                    " ".join((r["instruction"] or "").split())[:120]])
    return out


def pair_header(p: dict) -> str:
    """The line above a pair: id, status, origin, language, revision, source, labeller and flags."""
    bits = [f"**Pair {p['id']}**", f"`{p['status']}`", p["origin"], p["language"] or "no language",
            f"revision {p['revision']}"]
    if p.get("messages"):
        bits.append(f"conversation of {sum(m['role'] == 'user' for m in json.loads(p['messages']))} turns")
    if p.get("repo_name"):
        bits.append(p["repo_name"] + (f" · {p['snippet_path']}" if p.get("snippet_path") else ""))
    if p.get("labeller"):
        bits.append(f"labelled by {p['labeller']}" + (f" ({p['prompt_version']})" if p.get("prompt_version") else ""))
    flags = []
    if p.get("dup_group") not in (None, p["id"]):
        flags.append(f"duplicate of pair {p['dup_group']}")
    if p.get("contaminated_by"):
        flags.append(f"contaminated by {p['contaminated_by']}")
    if p.get("flags"):
        flags.append("filtered: " + ", ".join(p["flags"]))
    text = " · ".join(bits)
    return text + ("\n\n⚠ " + "; ".join(flags) if flags else "")


# -- handlers -------------------------------------------------------------------------------------
def show_pair(pair_id: Any) -> list:
    """Everything the review panel shows of one pair, in the order of the panel's outputs: what
    was on screen (for the edit check), header, code, the three text boxes, history, diff, and
    the conversation editor (shown only for a conversation pair)."""
    if pair_id is None:
        return [None, "No more pairs in this filter.", gr.update(value="", language=None), "", "", "",
                [], "", gr.update(value="", visible=False), gr.update(visible=False)]
    store = open_store()
    p = store.get_pair(int(pair_id))
    seen = {"id": p["id"], "revision": p["revision"], **{f: p[f] for f in TEXT_FIELDS}}
    edits = [[e["at"], e["field"], e["before"], e["after"]] for e in store.pair_history(p["id"])]
    diffs = store.label_diff(p["id"])
    diff_md = "\n\n".join(f"```diff\n{d}\n```" for d in diffs.values()) or "No human edit of the text yet."
    # Imported pairs have no source snippet: show their output highlighted instead.
    code_label = "Source snippet" if p.get("snippet_code") else "Output (no source snippet)"
    code_update = gr.update(value=p.get("snippet_code") or p["output"], label=code_label,
                            language=highlight(p["language"]))
    talk = messages_json(p)
    if talk:
        diff_md = (f"```diff\n{store.messages_diff(p['id'])}\n```" if store.messages_diff(p["id"])
                   else "No human edit of the conversation yet.")
    boxes = [gr.update(value=p[f], interactive=not talk) for f in TEXT_FIELDS]
    found = store.pair_scrub(p["id"])
    header = pair_header(p) + (f"\n\n🔒 replaced before storing: {describe_findings(found)}" if found else "")
    return [seen, header, code_update, *boxes, edits, diff_md,
            gr.update(value=talk, visible=bool(talk)), gr.update(visible=bool(talk))]


@ui_errors
def save_conversation_edit(seen: dict | None, text: str) -> list:
    """Save the edited messages of the conversation pair on screen; the pair after."""
    return show_pair(save_conversation(open_store(), seen, text)["id"])


@ui_errors
def load_page(flt: dict, page_no: Any, size: Any) -> tuple[list[list], str, int]:
    """One page of the pairs matching `flt`: its rows, a summary line, and the page shown (the
    store clamps it to the pages there are)."""
    result = open_store().query_pairs(flt, int(page_no or 1), int(size or 50))
    text = f"**{result['total']}** pairs · page {result['page']} of {result['pages']}"
    return table_rows(result["rows"]), text, result["page"]


@ui_errors
def apply_filter(*values: Any) -> tuple:
    """The filter boxes' values and the page size → the filter to keep, and its first page."""
    *parts, size = values
    flt = filter_from_inputs(*parts)
    open_store().query_pairs(flt, 1, 1)  # validates (bad search syntax, unknown flag) before storing
    return (flt, *load_page(flt, 1, size))


@ui_errors
def turn_page(flt: dict, page_no: Any, size: Any, step: int) -> tuple[list[list], str, int]:
    """The page `step` pages from `page_no` (never before the first)."""
    return load_page(flt, max(1, int(page_no or 1) + step), size)


def previous_page(flt: dict, page_no: Any, size: Any) -> tuple[list[list], str, int]:
    return turn_page(flt, page_no, size, -1)


def next_page(flt: dict, page_no: Any, size: Any) -> tuple[list[list], str, int]:
    return turn_page(flt, page_no, size, +1)


@ui_errors
def pick(evt: gr.SelectData) -> list:
    """Show the pair whose table row was clicked."""
    row = evt.row_value or []
    return show_pair(row[0] if row else None)


@ui_errors
def save_and_move(seen: dict | None, instr: str, inp: str, out: str, status_value: str | None, move: int,
                  flt: dict) -> list:
    """Save the boxes' edits of the pair on screen (refused if the pair changed since it was
    shown), set its status if given, then show the pair `move` steps away in `flt` (0: the same)."""
    if not seen:
        raise gr.Error("Pick a pair in the table first")
    store = open_store()
    changes = {f: v for f, v in zip(TEXT_FIELDS, (instr, inp, out)) if v != seen[f]}
    store.edit_pair(seen["id"], changes, status=status_value, seen={f: seen[f] for f in TEXT_FIELDS})
    if status_value:
        gr.Info(f"Pair {seen['id']} {status_value}")
    elif changes:
        gr.Info(f"Pair {seen['id']} saved")
    if move == 0:
        return show_pair(seen["id"])
    target = store.neighbour_pair_id(flt, seen["id"], forward=move > 0)
    return show_pair(target)


# The five buttons under a pair (and Shift+Enter, which saves).
def save_pair(seen: dict | None, instr: str, inp: str, out: str, flt: dict) -> list:
    return save_and_move(seen, instr, inp, out, None, 0, flt)


def approve_pair(seen: dict | None, instr: str, inp: str, out: str, flt: dict) -> list:
    return save_and_move(seen, instr, inp, out, "approved", 1, flt)


def reject_pair(seen: dict | None, instr: str, inp: str, out: str, flt: dict) -> list:
    return save_and_move(seen, instr, inp, out, "rejected", 1, flt)


def skip_pair(seen: dict | None, instr: str, inp: str, out: str, flt: dict) -> list:
    return save_and_move(seen, instr, inp, out, None, 1, flt)


def back_to_previous_pair(seen: dict | None, instr: str, inp: str, out: str, flt: dict) -> list:
    return save_and_move(seen, instr, inp, out, None, -1, flt)


@ui_errors
def bulk(flt: dict, action: str) -> str:
    """Set the status of every pair matching `flt` (approve / reject / draft); what changed."""
    result = open_store().bulk_set_status(flt, BULK_STATUS[action])
    note = f"{result['changed']} pairs changed"
    if result["skipped_empty"]:
        note += f"; {result['skipped_empty']} without instruction or output were left as they were"
    return note


@ui_errors
def refresh_choices() -> list:
    """The choices of the language, repo, origin and labeller filters: the values pairs have."""
    store = open_store()
    return [gr.update(choices=store.distinct_pair_values(c)) for c in CHOICE_COLUMNS]


@ui_errors
def stats(flt: dict) -> tuple[str, Any]:
    """Counts of the pairs matching `flt` (flags, scrubbed secrets) and their distribution plots."""
    store = open_store()
    s = store.pair_stats(flt)
    text = (f"**{s['total']}** pairs · duplicates {s['flags']['duplicate']} · contaminated "
            f"{s['flags']['contaminated']} · filtered {s['flags']['filtered']} · clean {s['flags']['clean']}")
    scrubbed = store.scrub_totals()
    if scrubbed["rows"]:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(scrubbed["replaced"].items()))
        text += f"\n\n🔒 replaced before storing, in {scrubbed['rows']} snippets/pairs: {kinds}"
    return text, pairs_panels.stats_figure(s)


# -- layout ---------------------------------------------------------------------------------------
class _Listing(NamedTuple):
    search: gr.Textbox
    status: gr.Dropdown
    flag: gr.Dropdown
    language: gr.Dropdown
    repo: gr.Dropdown
    origin: gr.Dropdown
    labeller: gr.Dropdown
    min_len: gr.Number
    max_len: gr.Number
    apply_btn: gr.Button
    prev_page: gr.Button
    page: gr.Number
    next_page: gr.Button
    page_size: gr.Dropdown
    summary: gr.Markdown
    table: gr.Dataframe

    def filter_inputs(self) -> list:
        """The filter boxes, in filter_from_inputs' order."""
        return [self.status, self.language, self.repo, self.origin, self.labeller, self.flag, self.min_len,
                self.max_len, self.search]


def _layout_listing() -> _Listing:
    with gr.Row():
        search = gr.Textbox(label="Search", placeholder="words in instruction, input or output (Enter)",
                            scale=3, elem_id="pairs-search")
        status = gr.Dropdown(list(STATUSES), multiselect=True, label="Status", scale=2)
        flag = gr.Dropdown(["any", *FLAG_CHOICES], value="any", label="Flags", scale=1)
    with gr.Row():
        language = gr.Dropdown([], multiselect=True, label="Language", allow_custom_value=True)
        repo = gr.Dropdown([], multiselect=True, label="Repo", allow_custom_value=True)
        origin = gr.Dropdown([], multiselect=True, label="Origin", allow_custom_value=True)
        labeller = gr.Dropdown([], multiselect=True, label="Labeller", allow_custom_value=True)
        min_len = gr.Number(label="Min chars", precision=0, minimum=0)
        max_len = gr.Number(label="Max chars", precision=0, minimum=0)
    with gr.Row():
        apply_btn = gr.Button("Apply filter", variant="primary", scale=0, elem_id="pairs-apply")
        prev_page = gr.Button("◀ Page", scale=0)
        page = gr.Number(value=1, precision=0, minimum=1, label="Page", scale=0, min_width=90)
        next_page = gr.Button("Page ▶", scale=0)
        page_size = gr.Dropdown(PAGE_SIZES, value=50, label="Per page", scale=0, min_width=110)
        summary = gr.Markdown(elem_id="pairs-summary")
    table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True, elem_id="pairs-table",
                         column_widths=["6%", "9%", "9%", "10%", "7%", "11%", "48%"],
                         max_height=420)
    return _Listing(search, status, flag, language, repo, origin, labeller, min_len, max_len, apply_btn,
                    prev_page, page, next_page, page_size, summary, table)


class _Pair(NamedTuple):
    header: gr.Markdown
    code: gr.Code
    instruction: gr.Textbox
    input_box: gr.Textbox
    output: gr.Textbox
    conversation: gr.Code
    save_conv_btn: gr.Button
    save_btn: gr.Button
    approve_btn: gr.Button
    reject_btn: gr.Button
    skip_btn: gr.Button
    back_btn: gr.Button


def _layout_pair() -> _Pair:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            header = gr.Markdown("Pick a pair in the table.", elem_id="pair-header")
            code = gr.Code(label="Source snippet", interactive=False, lines=14, max_lines=30)
        with gr.Column(scale=1):
            instruction = gr.Textbox(label="Instruction", lines=3, max_lines=12, elem_id="pair-instruction",
                                     info="Shift+Enter in any box saves; the buttons below move on")
            input_box = gr.Textbox(label="Input", lines=1, max_lines=8, elem_id="pair-input")
            output = gr.Textbox(label="Output", lines=10, max_lines=30, elem_id="pair-output",
                                elem_classes=["code-text"])
            # A conversation pair is edited as its messages (instruction/output only mirror it).
            conversation = gr.Code(label="Conversation (messages; edit, then Save conversation)",
                                   language="json", visible=False, interactive=True, lines=12,
                                   max_lines=40, elem_id="pair-conversation")
            save_conv_btn = gr.Button("Save conversation", visible=False, elem_id="pair-save-conversation")
            with gr.Row():
                save_btn = gr.Button("Save", elem_id="pair-save")
                approve_btn = gr.Button("Approve ▶", variant="primary", elem_id="pair-approve")
                reject_btn = gr.Button("Reject ▶", variant="stop", elem_id="pair-reject")
                skip_btn = gr.Button("Skip ▶", elem_id="pair-skip")
                back_btn = gr.Button("◀ Previous", elem_id="pair-previous")
    return _Pair(header, code, instruction, input_box, output, conversation, save_conv_btn, save_btn,
                 approve_btn, reject_btn, skip_btn, back_btn)


class _Review(NamedTuple):
    listing: _Listing
    pair: _Pair
    history: gr.Dataframe
    diff: gr.Markdown
    bulk_action: gr.Dropdown
    bulk_btn: gr.Button
    bulk_note: gr.Markdown


def _layout_review() -> _Review:
    listing = _layout_listing()
    pair = _layout_pair()
    with gr.Accordion("History and label-vs-edit diff", open=False):
        history = gr.Dataframe(headers=["at", "field", "before", "after"], interactive=False, wrap=True,
                               max_height=240)
        diff = gr.Markdown(elem_id="pair-diff")
    with gr.Accordion("Bulk action on every pair matching the applied filter", open=False):
        with gr.Row():
            bulk_action = gr.Dropdown(list(BULK_STATUS), value="approve", label="Action", scale=1)
            bulk_btn = gr.Button("Apply to all matching pairs", variant="stop", scale=0, elem_id="pairs-bulk")
        bulk_note = gr.Markdown()
    return _Review(listing, pair, history, diff, bulk_action, bulk_btn, bulk_note)


def _wire_review(ctx: StudioContext, ui: _Review, applied: gr.State, current: gr.State) -> None:
    lst, pair = ui.listing, ui.pair
    paging = [applied, lst.page, lst.page_size]
    page_out = [lst.table, lst.summary, lst.page]
    pair_outputs = [current, pair.header, pair.code, pair.instruction, pair.input_box, pair.output, ui.history,
                    ui.diff, pair.conversation, pair.save_conv_btn]
    apply_evt = dict(fn=apply_filter, inputs=[*lst.filter_inputs(), lst.page_size],
                     outputs=[applied, *page_out])
    lst.apply_btn.click(**apply_evt)
    lst.search.submit(**apply_evt)
    lst.page.submit(load_page, paging, page_out)
    lst.page_size.change(load_page, paging, page_out)
    lst.prev_page.click(previous_page, paging, page_out)
    lst.next_page.click(next_page, paging, page_out)
    lst.table.select(pick, None, pair_outputs)
    texts = [current, pair.instruction, pair.input_box, pair.output]
    for button, handler in ((pair.save_btn, save_pair), (pair.approve_btn, approve_pair),
                            (pair.reject_btn, reject_pair), (pair.skip_btn, skip_pair),
                            (pair.back_btn, back_to_previous_pair)):
        button.click(handler, [*texts, applied], pair_outputs).then(load_page, paging, page_out)
    for box in (pair.instruction, pair.input_box, pair.output):
        box.submit(save_pair, [*texts, applied], pair_outputs)
    pair.save_conv_btn.click(save_conversation_edit, [current, pair.conversation], pair_outputs,
                             api_name="do_save_conversation")
    ui.bulk_btn.click(bulk, [applied, ui.bulk_action], ui.bulk_note).then(load_page, paging, page_out)
    ctx.on_load(refresh_choices, None, [lst.language, lst.repo, lst.origin, lst.labeller])
    # Opening the tab shows pairs labelled meanwhile, on the same filter and page the person left.
    ctx.on_load(load_page, paging, page_out)


def build(ctx: StudioContext) -> None:
    applied = gr.State({})     # the filter the table shows (bulk actions and freezing use it)
    current = gr.State(None)   # {"id", "instruction", "input", "output"} as loaded: what the person saw
    with gr.Tabs():
        with gr.Tab("Review", id="pairs-review"):
            review = _layout_review()
        with gr.Tab("Stats", id="pairs-stats"):
            stats_btn = gr.Button("Refresh stats for the applied filter", scale=0)
            stats_md = gr.Markdown()
            stats_plot = gr.Plot(label="Status, language and length distributions", show_label=False)
        with gr.Tab("Clean", id="pairs-clean"):
            pairs_panels.build_clean_panel(ctx)
        with gr.Tab("Import", id="pairs-import"):
            pairs_panels.build_import_panel(ctx)
        with gr.Tab("Datasets", id="pairs-datasets"):
            pairs_panels.build_datasets_panel(ctx, applied)
    _wire_review(ctx, review, applied, current)
    stats_btn.click(stats, applied, [stats_md, stats_plot])


if __name__ == "__main__":   # python -m studio.pairs_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
