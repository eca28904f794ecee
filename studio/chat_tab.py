"""Chat tab: one model or 2-4 side by side, battles with hidden names, votes, leaderboard, and
answers sent back into the Pairs table.

The handlers below are named top-level functions over pipeline.chat (tested without a browser in
tests/studio/test_chat_handlers.py):
- `do_send`, `do_regen` stream `pipeline.chat.send` / `regenerate` into the four chatbots and
  their status lines; `stop_answers` calls `stop_run` (Stop);
- `do_vote` records `pipeline.chat.arena.vote` and reveals a battle's names; `leaderboard_view`
  shows `pipeline.chat.leaderboard` (Bradley-Terry and Elo, win rates); `do_import_battles` /
  `do_export_battles` exchange votes as FastChat battles (studio.arena_exchange);
- `do_pair`, `do_all_pairs` call `send_to_pairs`; `list_chats`, `do_open`, `do_delete`,
  `do_export` list, reopen, delete and export conversations (pipeline.chat.conversation);
- `refresh_models` fills the model pickers, `do_unload` empties the model cache.

The conversation of this browser session lives in gr.State ({"chat_id", "models", "mode"}), the
loaded models in the process-wide cache (pipeline.models).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import gradio as gr

from pipeline.chat import ChatSettings, Column, ColumnState, new_chat, regenerate, send, send_to_pairs, stop_run
from pipeline.chat.arena import VOTE_LABELS, pick_battle, vote
from pipeline.chat.conversation import check_prompt, export_jsonl, last_turn
from pipeline.chat.conversation import delete as delete_chat
from pipeline.store import Store, open_store
from studio.arena_exchange import export_battles_file, import_battles_file
from studio.chat_layout import (
    LETTERS,
    MODE_NAMES,
    SETTINGS_PER_COLUMN,
    layout_board,
    layout_columns,
    layout_composer,
    layout_conversations,
    layout_header,
    layout_pair_form,
)
from studio.chat_view import LEADERBOARD_COLUMNS as LEADERBOARD_COLUMNS  # re-exported: tests import it here
from studio.chat_view import MAX_COLS, leaderboard_rows, status_lines, views
from studio.chat_view import fence_unfenced_code as fence_unfenced_code  # re-exported: tests import it here
from studio.common import StudioContext, bound, ui_errors

TITLE = "Chat"


def empty_state() -> dict:
    """The session state of a page with no conversation yet."""
    return {"chat_id": None, "models": None, "mode": None}


def column_count(mode_v: str, n: float | int) -> int:
    """How many columns answer in a mode (the slider counts only side by side)."""
    return 1 if mode_v == "Single" else (2 if mode_v == "Battle" else int(n))


def columns_for(mode_v: str, n: float | int, picks: list, system_v: str | None,
                flat: list) -> tuple[list[str], list[ChatSettings]]:
    """The picked model names and each column's settings, read from the flat settings inputs."""
    count = column_count(mode_v, n)
    names = list(picks[:count])
    if mode_v != "Battle" and not all(names):
        raise gr.Error("Pick a model for every column (prepare the default one in the Models tab)")
    settings = []
    for i in range(count):
        t, p, mx, rp, seed, stop = flat[i * SETTINGS_PER_COLUMN:(i + 1) * SETTINGS_PER_COLUMN]
        settings.append(ChatSettings(
            system=system_v or "", temperature=float(t), top_p=float(p), max_new_tokens=int(mx),
            repetition_penalty=float(rp), seed=_seed(seed),
            stop=[w.strip() for w in (stop or "").split(",") if w.strip()]))
    return names, settings


def _seed(value: Any) -> int | None:
    """A column's seed box: blank for a random answer, else a whole number (said so, not a crash)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = 0.5
    if not number.is_integer():
        raise gr.Error(f"Seed must be a whole number or blank, not {text!r}")
    return int(number)


def _stream(store: Store, snapshots: Iterable[list[ColumnState]], st: dict) -> Iterator[list]:
    """Outputs [state, 4 chatbots, 4 status lines, prompt] while the columns answer; the last one
    shows the saved conversation and clears the prompt."""
    chat = store.get_chat(st["chat_id"])
    states = None
    for states in snapshots:
        yield [st, *views(chat, states), *status_lines(states), gr.update()]
    yield [st, *views(store.get_chat(st["chat_id"])), *status_lines(states), gr.update(value="")]


# -- handlers ---------------------------------------------------------------------------------
@ui_errors
def do_send(st: dict, key: str | None, mode_v: str, n: float, sys_v: str | None, text: str, rkey: str,
            *rest) -> Iterator[list]:
    """Send the message to the columns (`rest`: the 4 pickers, then the flat settings). A new
    conversation starts when the models change; a battle picks two random models, and a new pair
    once the last one has its vote."""
    picks, flat = list(rest[:MAX_COLS]), list(rest[MAX_COLS:])
    check_prompt(text)
    store = open_store()
    names, col_settings = columns_for(mode_v, n, picks, sys_v, flat)
    st = dict(st)
    decided = st.get("chat_id") and st.get("mode") == "battle" and store.vote_for_turn(
        st["chat_id"], last_turn(store.get_chat(st["chat_id"])) or 0)
    if mode_v == "Battle" and (st.get("mode") != "battle" or decided):
        names = pick_battle([m["name"] for m in store.list_models()])
        st["chat_id"] = None
    elif mode_v == "Battle":
        names = st["models"]
    if st.get("chat_id") is None or st.get("models") != names:
        mode_name = MODE_NAMES[mode_v]
        st = {"chat_id": new_chat(store, names, mode=mode_name, system=sys_v or ""), "models": names,
              "mode": mode_name}
    labels = [f"Model {LETTERS[i]}" if mode_v == "Battle" else names[i] for i in range(len(names))]
    columns = [Column(n_, s, label) for n_, s, label in zip(names, col_settings, labels)]
    yield from _stream(store, send(store, st["chat_id"], text, columns, run_key=rkey, api_key=key or None), st)


@ui_errors
def do_regen(st: dict, key: str | None, mode_v: str, n: float, sys_v: str | None, rkey: str,
             *rest) -> Iterator[list]:
    """Answer the conversation's last message again, with the columns' current settings."""
    if not st.get("chat_id"):
        raise gr.Error("Nothing to regenerate: send a message first")
    _, col_settings = columns_for("Side by side", len(st["models"]), list(st["models"]) + [None] * 4,
                                  sys_v, list(rest[MAX_COLS:]))
    columns = [Column(n_, s) for n_, s in zip(st["models"], col_settings)]
    store = open_store()
    yield from _stream(store, regenerate(store, st["chat_id"], columns, run_key=rkey, api_key=key or None), st)


def stop_answers(run_key: str) -> None:
    """Tell this session's columns to end; their partial answers are saved."""
    stop_run(run_key)


def show_columns(mode_v: str, n: float) -> list:
    """Visibility of the slider, the 4 columns, the 4 pickers (hidden in a battle), the vote row."""
    count = column_count(mode_v, n)
    return ([gr.update(visible=mode_v == "Side by side")]
            + [gr.update(visible=i < count) for i in range(MAX_COLS)]
            + [gr.update(visible=mode_v != "Battle") for _ in range(MAX_COLS)]
            + [gr.update(visible=count == 2)])


def do_new() -> list:
    """A fresh page: no conversation, empty chatbots, status lines and reveal."""
    return [empty_state(), *views(None), *status_lines(None), ""]


@ui_errors
def leaderboard_view() -> tuple[list[list], Any]:
    """The leaderboard table and the win-rate figure."""
    from pipeline.chat.leaderboard import arena_leaderboard, win_rate_figure

    store = open_store()
    return leaderboard_rows(arena_leaderboard(store)), win_rate_figure(store)


@ui_errors
def do_vote(st: dict, winner: str) -> tuple:
    """Vote on the last turn; the reveal line names both models, then the refreshed leaderboard."""
    if not st.get("chat_id"):
        raise gr.Error("Send a prompt to two models before voting")
    result = vote(open_store(), st["chat_id"], winner)
    return (f"Vote stored: **{VOTE_LABELS[winner]}**. Model A was **{result['a']}**, "
            f"model B was **{result['b']}**."), *leaderboard_view()


@ui_errors
def do_import_battles(path: str | None) -> str:
    """Import an uploaded FastChat battle file; the report line."""
    return import_battles_file(open_store(), path)


@ui_errors
def do_export_battles() -> str:
    """Every vote as a FastChat battle file under the data folder; its path."""
    return export_battles_file(open_store())


@ui_errors
def do_pair(st: dict, letter: str, fixed: str | None, keep: bool) -> None:
    """The last answer of column `letter` (or its corrected text) becomes a draft pair."""
    if not st.get("chat_id"):
        raise gr.Error("No conversation yet")
    store = open_store()
    chat = store.get_chat(st["chat_id"])
    col = LETTERS.index(letter)
    answers = [m for m in chat["messages"] if m["role"] == "assistant" and m["col"] == col and m["content"]]
    if not answers:
        raise gr.Error(f"Model {letter} has no answer in this conversation")
    ids = send_to_pairs(store, st["chat_id"], message_id=answers[-1]["id"],
                        output=fixed if fixed and fixed.strip() else None, keep_context=bool(keep))
    gr.Info(f"Pair {ids[0]} added as a draft (origin chat): review it in the Pairs tab")


@ui_errors
def list_chats() -> list[list]:
    """The Conversations table, newest first; an unvoted battle shows Model A / Model B."""
    from pipeline.chat.arena import shown_models

    return [[c["id"], c["updated_at"][:16], c["mode"], c["turns"], ", ".join(shown_models(c)), c["title"] or ""]
            for c in open_store().list_chats()]


@ui_errors
def do_open(chat_id: float | None) -> list:
    """Reopen a conversation: [state, mode, slider, system prompt, 4 pickers, 4 chatbots]."""
    from pipeline.chat.arena import is_blind

    if chat_id is None:
        raise gr.Error("Give a conversation id from the list")
    chat = open_store().get_chat(int(chat_id))
    st = {"chat_id": chat["id"], "models": chat["models"], "mode": chat["mode"]}
    mode_v = {mode: label for label, mode in MODE_NAMES.items()}[chat["mode"]]
    # An unvoted battle keeps its names out of the pickers (and so out of the page and the API).
    picks = [gr.update(value=chat["models"][i]) if i < len(chat["models"]) and not is_blind(chat)
             else gr.update() for i in range(MAX_COLS)]
    return [st, mode_v, max(2, len(chat["models"])), chat["system"], *picks, *views(chat)]


@ui_errors
def do_delete(st: dict, chat_id: float | None) -> tuple[dict, list[list]]:
    """Delete a conversation (its votes and pairs stay); the page forgets it if it was open."""
    if chat_id is None:
        raise gr.Error("Give a conversation id from the list")
    delete_chat(open_store(), int(chat_id))
    gr.Info(f"Deleted conversation {int(chat_id)} (its votes and pairs stay)")
    if st.get("chat_id") == int(chat_id):
        st = empty_state()
    return st, list_chats()


@ui_errors
def do_export() -> str:
    """Every conversation as JSONL in a new folder under the data folder's exports; its path."""
    import tempfile
    from pathlib import Path

    from pipeline.paths import area_dir

    # Under the data folder: the only place a logged-in user of a hosted studio may write.
    area_dir("exports").mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="chats-", dir=area_dir("exports"))) / "conversations.jsonl"
    n = export_jsonl(open_store(), None, path)
    gr.Info(f"Exported {n} conversation(s)")
    return str(path)


@ui_errors
def do_all_pairs(chat_id: float | None, keep: bool) -> None:
    """Every answer of a conversation becomes a draft pair."""
    if chat_id is None:
        raise gr.Error("Give a conversation id from the list")
    ids = send_to_pairs(open_store(), int(chat_id), keep_context=bool(keep))
    gr.Info(f"{len(ids)} draft pair(s) added (origin chat)")


@ui_errors
def refresh_models(*current: str | None) -> list:
    """New models appear in every column; a column keeps the model the person picked."""
    names = [m["name"] for m in open_store().list_models()]
    return [gr.update(choices=names, value=current[i] if current[i] in names else
                      (names[i % len(names)] if names else None)) for i in range(MAX_COLS)]


def do_unload() -> None:
    """Unload every model from the shared cache."""
    from pipeline import models

    gr.Info(f"Unloaded {models.unload()} model(s)")


# -- wiring -----------------------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    state = gr.State(empty_state())
    run_key = gr.State(lambda: uuid.uuid4().hex)   # one per browser session: what Stop stops
    head = layout_header()
    cols = layout_columns()
    comp = layout_composer()
    pair = layout_pair_form()
    board = layout_board()
    convs = layout_conversations()

    stream_outputs = [state, *cols.chatbots, *cols.statuses, comp.prompt]
    common = [state, head.api_key, head.mode, head.n_cols, head.system]
    send_event = comp.send.click(do_send, [*common, comp.prompt, run_key, *cols.pickers, *cols.settings],
                                 stream_outputs, concurrency_id="chat", concurrency_limit=8)
    submit_event = comp.prompt.submit(do_send, [*common, comp.prompt, run_key, *cols.pickers, *cols.settings],
                                      stream_outputs, concurrency_id="chat", concurrency_limit=8)
    regen_event = comp.regen.click(do_regen, [*common, run_key, *cols.pickers, *cols.settings], stream_outputs,
                                   concurrency_id="chat", concurrency_limit=8)
    # Stop tells the columns to end (their partial answers are saved), then cancels the page's stream.
    comp.stop.click(stop_answers, run_key, None, cancels=[send_event, submit_event, regen_event])
    for c in (head.mode, head.n_cols):
        c.change(show_columns, [head.mode, head.n_cols], [head.n_cols, *cols.boxes, *cols.pickers, comp.vote_row])
    fresh = [state, *cols.chatbots, *cols.statuses, comp.reveal]
    head.mode.change(do_new, None, fresh)
    comp.new.click(do_new, None, fresh)
    for winner, btn in comp.votes.items():
        btn.click(bound(do_vote, winner=winner), state, [comp.reveal, board.table, board.winrate])
    board.refresh.click(leaderboard_view, None, [board.table, board.winrate])
    pair.send.click(do_pair, [state, pair.column, pair.corrected, pair.keep_context], None)
    convs.open.click(do_open, convs.pick, [state, head.mode, head.n_cols, head.system, *cols.pickers,
                                          *cols.chatbots])
    convs.delete.click(do_delete, [state, convs.pick], [state, convs.table])
    convs.export.click(do_export, None, convs.export_file)
    convs.to_pairs.click(do_all_pairs, [convs.pick, pair.keep_context], None)
    board.import_btn.click(do_import_battles, board.battles_in, board.note).then(
        leaderboard_view, None, [board.table, board.winrate])
    board.export_btn.click(do_export_battles, None, board.battles_out)
    comp.unload.click(do_unload)
    ctx.on_load(refresh_models, cols.pickers, cols.pickers)
    ctx.on_load(list_chats, None, convs.table)
    ctx.on_load(leaderboard_view, None, [board.table, board.winrate])


if __name__ == "__main__":   # python -m studio.chat_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
