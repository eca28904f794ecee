"""The Chat tab's components: the mode row, the four model columns with their settings, the
composer with its vote row, and the accordions (pairs, leaderboard, conversations). Each
`_layout_*` makes its components in the open Blocks and returns them as a small dataclass;
studio/chat_tab.py wires them to its handlers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from pipeline.chat.arena import VOTE_LABELS
from studio.chat_view import LEADERBOARD_COLUMNS, MAX_COLS

LETTERS = "ABCD"
SETTINGS_PER_COLUMN = 6   # temperature, top-p, max new tokens, repetition penalty, seed, stop words
MODE_NAMES = {"Single": "single", "Side by side": "side", "Battle": "battle"}   # radio label -> stored mode


# -- layout -----------------------------------------------------------------------------------
@dataclass
class Header:
    """The mode, the column count, the session API key and the system prompt."""
    mode: gr.Radio
    n_cols: gr.Slider
    api_key: gr.Textbox
    system: gr.Textbox


@dataclass
class ModelColumns:
    """The four model columns: each box, picker, chatbot, status line and settings."""
    boxes: list[gr.Column]
    pickers: list[gr.Dropdown]
    chatbots: list[gr.Chatbot]
    statuses: list[gr.Markdown]
    settings: list[Any]          # SETTINGS_PER_COLUMN inputs per column, column after column


@dataclass
class Composer:
    """The message box, the buttons under it, the vote row and the reveal line."""
    prompt: gr.Textbox
    send: gr.Button
    stop: gr.Button
    regen: gr.Button
    new: gr.Button
    unload: gr.Button
    vote_row: gr.Row
    votes: dict[str, gr.Button]
    reveal: gr.Markdown


@dataclass
class PairForm:
    """Send one answer (or its correction) to the Pairs table."""
    column: gr.Radio
    send: gr.Button
    corrected: gr.Textbox
    keep_context: gr.Checkbox


@dataclass
class Board:
    """The leaderboard accordion: table, win-rate plot, FastChat battle import and export."""
    refresh: gr.Button
    table: gr.Dataframe
    winrate: gr.Plot
    battles_in: gr.File
    import_btn: gr.Button
    export_btn: gr.Button
    note: gr.Markdown
    battles_out: gr.File


@dataclass
class Conversations:
    """The Conversations accordion: the table and the actions on one conversation."""
    table: gr.Dataframe
    pick: gr.Number
    open: gr.Button
    delete: gr.Button
    export: gr.Button
    to_pairs: gr.Button
    export_file: gr.File


def layout_header() -> Header:
    with gr.Row():
        mode = gr.Radio(list(MODE_NAMES), value="Single", label="Mode", elem_id="chat-mode",
                        info="Battle: two random models, names hidden until you vote")
        n_cols = gr.Slider(2, MAX_COLS, value=2, step=1, label="Models side by side", visible=False)
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password")
    system = gr.Textbox(label="System prompt", lines=1, placeholder="You are a careful GDScript programmer.")
    return Header(mode, n_cols, api_key, system)


def layout_settings(letter: str) -> list[Any]:
    with gr.Accordion(f"Settings {letter}", open=False):
        return [gr.Slider(0, 2, value=0, step=0.05, label="Temperature"),
                gr.Slider(0.05, 1, value=1, step=0.05, label="Top-p"),
                gr.Slider(16, 2048, value=256, step=16, label="Max new tokens"),
                gr.Slider(1, 2, value=1, step=0.05, label="Repetition penalty"),
                gr.Number(None, label="Seed (empty = random)", precision=0),
                gr.Textbox(label="Stop words (comma separated)")]


def layout_columns() -> ModelColumns:
    cols = ModelColumns([], [], [], [], [])
    with gr.Row(equal_height=False):
        for i in range(MAX_COLS):
            with gr.Column(visible=i == 0, min_width=280) as box:
                cols.pickers.append(gr.Dropdown([], label=f"Model {LETTERS[i]}", elem_id=f"chat-model-{i}"))
                cols.chatbots.append(gr.Chatbot(label=f"Model {LETTERS[i]}", height=420, elem_id=f"chat-bot-{i}",
                                                buttons=["copy"]))
                cols.statuses.append(gr.Markdown("", elem_id=f"chat-status-{i}"))
                cols.settings += layout_settings(LETTERS[i])
            cols.boxes.append(box)
    return cols


def layout_composer() -> Composer:
    prompt = gr.Textbox(label="Message", lines=3, placeholder="Ask something; Shift+Enter for a new line",
                        elem_id="chat-input")
    with gr.Row():
        send_btn = gr.Button("Send", variant="primary", elem_id="chat-send")
        stop_btn = gr.Button("Stop", variant="stop")
        regen_btn = gr.Button("Regenerate")
        new_btn = gr.Button("New conversation")
        unload_btn = gr.Button("Unload all models")
    with gr.Row(visible=False) as vote_row:
        vote_btns = {k: gr.Button(label, elem_id=f"vote-{k}") for k, label in VOTE_LABELS.items()}
    reveal = gr.Markdown("", elem_id="chat-reveal")
    return Composer(prompt, send_btn, stop_btn, regen_btn, new_btn, unload_btn, vote_row, vote_btns, reveal)


def layout_pair_form() -> PairForm:
    with gr.Accordion("Send an answer to the Pairs table", open=False):
        with gr.Row():
            column = gr.Radio(list(LETTERS), value="A", label="Answer of model")
            send_btn = gr.Button("Send this answer as a draft pair")
        corrected = gr.Textbox(label="Corrected answer (optional: used instead of the model's text)", lines=4)
        keep_context = gr.Checkbox(True, label="Keep the conversation before it",
                                   info="the pair holds the earlier turns and the system prompt; unticked: only "
                                        "this turn, noted as sent without its context", elem_id="chat-keep-context")
    return PairForm(column, send_btn, corrected, keep_context)


def layout_board() -> Board:
    with gr.Accordion("Leaderboard", open=False):
        refresh = gr.Button("Refresh leaderboard")
        table = gr.Dataframe(headers=LEADERBOARD_COLUMNS, interactive=False, elem_id="chat-leaderboard",
                             label="Bradley-Terry and Elo ratings with 95% bootstrap intervals")
        winrate = gr.Plot(label="Win rate")
        with gr.Row():
            battles_in = gr.File(label="FastChat battles to import (.json / .jsonl)", file_types=[".json", ".jsonl"],
                                 type="filepath", elem_id="chat-battles-file")
            with gr.Column():
                import_btn = gr.Button("Import votes", elem_id="chat-battles-import")
                export_btn = gr.Button("Export votes as FastChat battles", elem_id="chat-battles-export")
        note = gr.Markdown(elem_id="chat-battles-note")
        battles_out = gr.File(label="FastChat battle file (elo_analysis.py reads it)", interactive=False)
    return Board(refresh, table, winrate, battles_in, import_btn, export_btn, note, battles_out)


def layout_conversations() -> Conversations:
    with gr.Accordion("Conversations", open=False):
        table = gr.Dataframe(headers=["id", "updated", "mode", "turns", "models", "title"], interactive=False)
        with gr.Row():
            pick = gr.Number(None, label="Conversation id", precision=0)
            open_btn = gr.Button("Open")
            delete_btn = gr.Button("Delete", variant="stop")
            export_btn = gr.Button("Export all as JSONL")
            to_pairs_btn = gr.Button("All its answers → pairs")
        export_file = gr.File(label="Export", interactive=False)
    return Conversations(table, pick, open_btn, delete_btn, export_btn, to_pairs_btn, export_file)
