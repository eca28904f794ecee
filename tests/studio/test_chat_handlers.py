"""The Chat tab's handlers called directly (no browser): real store, models served by the local
OpenAI-compatible test server, so every answer is real and quick. Covers what the browser tests
cannot conveniently: refusals, an empty store, battles staying blind, pairs and exports."""
from __future__ import annotations

import json

import gradio as gr
import pytest

from pipeline.chat import ColumnState
from studio.chat_tab import (
    LEADERBOARD_COLUMNS,
    MAX_COLS,
    do_all_pairs,
    do_delete,
    do_export,
    do_import_battles,
    do_new,
    do_open,
    do_pair,
    do_regen,
    do_send,
    do_vote,
    empty_state,
    leaderboard_view,
    list_chats,
    refresh_models,
    show_columns,
)
from studio.chat_view import status_lines, views
from tests.openai_server import OpenAIServer

DEFAULT_SETTINGS = [0, 1, 256, 1, None, ""] * MAX_COLS   # temperature, top-p, tokens, penalty, seed, stop


@pytest.fixture
def models(store):
    """m1 and m2 served by the OpenAI-compatible test server; each answer names its model."""
    answers: dict[str, int] = {}

    def reply(body: dict) -> str:
        answers[body["model"]] = answers.get(body["model"], 0) + 1
        return f"answer {answers[body['model']]} of {body['model']}"

    with OpenAIServer(models=("m1", "m2"), reply=reply) as server:
        for name in ("m1", "m2"):
            store.register_model(name, "openai", name, endpoint=server.url)
        yield store


def send(st: dict, mode: str, text: str, picks: list, n: int = 2, system: str = "") -> list:
    """The last output of do_send: [state, 4 chatbots, 4 status lines, prompt update]."""
    picks = list(picks) + [None] * (MAX_COLS - len(picks))
    return list(do_send(st, None, mode, n, system, text, "run-key", *picks, *DEFAULT_SETTINGS))[-1]


def refused(call, match: str):
    """Run `call` (draining a stream) expecting ui_errors' warning toast; what it returned."""
    with pytest.warns(UserWarning, match=match):
        out = call()
        return list(out) if hasattr(out, "__next__") else out


def test_a_single_model_answers_and_the_prompt_is_cleared(models):
    out = send(empty_state(), "Single", "Write hello", ["m1"])
    st, bots, statuses, prompt = out[0], out[1:5], out[5:9], out[9]
    assert st["mode"] == "single" and st["models"] == ["m1"]
    assert bots[0] == [{"role": "user", "content": "Write hello"},
                       {"role": "assistant", "content": "answer 1 of m1"}]
    assert bots[1:] == [[], [], []]
    assert statuses[0].startswith("**done**") and statuses[1:] == ["", "", ""]
    assert prompt == gr.update(value="")
    chat = models.get_chat(st["chat_id"])
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"] and chat["title"] == "Write hello"


def test_an_empty_message_is_refused_and_nothing_is_stored(models):
    out = refused(lambda: do_send(empty_state(), None, "Single", 2, "", "   ", "k", "m1", None, None, None,
                                  *DEFAULT_SETTINGS), "empty prompt")
    assert out == [gr.skip()]
    assert models.list_chats() == []


def test_side_by_side_needs_a_model_in_every_column(models):
    refused(lambda: do_send(empty_state(), None, "Side by side", 2, "", "hi", "k", "m1", None, None, None,
                            *DEFAULT_SETTINGS), "Pick a model for every column")
    assert models.list_chats() == []


def test_a_seed_that_is_not_a_whole_number_is_refused_not_a_crash(models):
    for seed in ("abc", "1.5"):
        settings = [0, 1, 256, 1, seed, ""] + DEFAULT_SETTINGS[6:]
        refused(lambda s=settings: do_send(empty_state(), None, "Single", 2, "", "hi", "k", "m1", None, None, None,
                                           *s), "Seed must be a whole number or blank")
    assert models.list_chats() == []
    settings = [0, 1, 256, 1, " 7 ", ""] + DEFAULT_SETTINGS[6:]
    out = list(do_send(empty_state(), None, "Single", 2, "", "hi", "k", "m1", None, None, None, *settings))[-1]
    assert models.get_chat(out[0]["chat_id"])["models"] == ["m1"]


def test_the_same_models_continue_a_conversation_and_new_models_start_another(models):
    first = send(empty_state(), "Single", "one", ["m1"])
    second = send(first[0], "Single", "two", ["m1"])
    assert second[0]["chat_id"] == first[0]["chat_id"]
    assert [m["content"] for m in second[1] if m["role"] == "user"] == ["one", "two"]
    other = send(second[0], "Single", "three", ["m2"])
    assert other[0]["chat_id"] != first[0]["chat_id"] and other[0]["models"] == ["m2"]


def test_a_vote_names_both_models_and_moves_the_leaderboard(models):
    out = send(empty_state(), "Side by side", "Write f", ["m1", "m2"])
    st = out[0]
    assert out[1][-1]["content"] == "answer 1 of m1" and out[2][-1]["content"] == "answer 1 of m2"
    reveal, rows, _figure = do_vote(st, "a")
    assert "A is better" in reveal and "Model A was **m1**" in reveal and "model B was **m2**" in reveal
    assert {r[0] for r in rows} == {"m1", "m2"} and len(rows[0]) == len(LEADERBOARD_COLUMNS)
    assert models.vote_for_turn(st["chat_id"], 0)["winner"] == "a"
    refused(lambda: do_vote(st, "b"), "already been voted on")     # one vote per turn
    assert models.count_votes() == 1


def test_voting_before_a_message_is_refused(models):
    assert refused(lambda: do_vote(empty_state(), "a"), "Send a prompt to two models") == gr.skip()


def test_a_battle_hides_its_models_until_the_vote_then_starts_a_new_one(models):
    out = send(empty_state(), "Battle", "Write g", [])
    st = out[0]
    assert st["mode"] == "battle" and sorted(st["models"]) == ["m1", "m2"]
    assert list_chats()[0][4] == "Model A, Model B"
    opened = do_open(st["chat_id"])
    assert opened[1] == "Battle" and opened[4:8] == [gr.update()] * MAX_COLS   # no name in the pickers
    refused(lambda: do_pair(st, "A", "", True), "vote on this battle first")
    do_vote(st, "tie")
    assert list_chats()[0][4] == ", ".join(st["models"])
    again = send(st, "Battle", "Write h", [])
    assert again[0]["chat_id"] != st["chat_id"]   # a decided battle is not continued


def test_regenerate_replaces_the_last_answer(models):
    st = send(empty_state(), "Single", "Write k", ["m1"])[0]
    out = list(do_regen(st, None, "Single", 2, "", "run-key", "m1", None, None, None, *DEFAULT_SETTINGS))[-1]
    assert out[1][-1]["content"] == "answer 2 of m1"
    answers = [m for m in models.get_chat(st["chat_id"])["messages"] if m["role"] == "assistant"]
    assert [m["content"] for m in answers] == ["answer 2 of m1"]


def test_regenerate_without_a_conversation_is_refused(models):
    out = refused(lambda: do_regen(empty_state(), None, "Single", 2, "", "k", *[None] * 4, *DEFAULT_SETTINGS),
                  "Nothing to regenerate")
    assert out == [gr.skip()]


def test_an_answer_and_its_correction_become_draft_pairs(models):
    st = send(empty_state(), "Single", "Write a function", ["m1"])[0]
    refused(lambda: do_pair(empty_state(), "A", "", True), "No conversation yet")
    refused(lambda: do_pair(st, "B", "", True), "Model B has no answer")
    assert models.count("pairs") == 0
    do_pair(st, "A", "def fixed(): pass", True)
    [pair_id] = [r[0] for r in models.db.execute("SELECT id FROM pairs")]
    pair = models.get_pair(pair_id)
    assert pair["origin"] == "chat" and pair["status"] == "draft" and pair["output"] == "def fixed(): pass"


def test_every_answer_of_a_conversation_becomes_a_pair(models):
    st = send(empty_state(), "Side by side", "Write m", ["m1", "m2"])[0]
    refused(lambda: do_all_pairs(None, True), "Give a conversation id")
    do_all_pairs(st["chat_id"], False)
    assert models.count("pairs") == 2


def test_delete_forgets_the_open_conversation(models):
    st = send(empty_state(), "Single", "Write n", ["m1"])[0]
    other = send(empty_state(), "Single", "Write o", ["m2"])[0]
    refused(lambda: do_delete(st, None), "Give a conversation id")
    state_after, table = do_delete(st, st["chat_id"])
    assert state_after == empty_state() and [r[0] for r in table] == [other["chat_id"]]
    kept, _ = do_delete(st, other["chat_id"])   # another conversation: the page keeps its own
    assert kept == st


def test_export_writes_every_conversation_under_the_data_folder(models, studio_home):
    send(empty_state(), "Single", "Write p", ["m1"])
    send(empty_state(), "Single", "Write q", ["m2"])
    path = do_export()
    assert path.startswith(str(studio_home))
    records = [json.loads(line) for line in open(path, encoding="utf-8")]
    assert len(records) == 2 and {r["models"][0] for r in records} == {"m1", "m2"}


def test_the_pickers_keep_a_persons_pick_and_offer_every_model(models):
    ups = refresh_models("m2", None, "gone", None)
    assert [u["choices"] for u in ups] == [["m1", "m2"]] * MAX_COLS
    assert [u["value"] for u in ups] == ["m2", "m2", "m1", "m2"]   # kept, then spread over the models


def test_an_empty_store_shows_empty_tables(store):
    assert [u["value"] for u in refresh_models(None, None, None, None)] == [None] * MAX_COLS
    assert list_chats() == []
    rows, _figure = leaderboard_view()
    assert rows == []
    refused(lambda: do_open(None), "Give a conversation id")
    refused(lambda: do_import_battles(None), "choose a FastChat battle file")


def visible(updates: list) -> list[bool]:
    return [u["visible"] for u in updates]


def test_the_mode_decides_which_columns_pickers_and_votes_show():
    single, side3, battle = show_columns("Single", 2), show_columns("Side by side", 3), show_columns("Battle", 4)
    assert visible(single) == [False, True, False, False, False, True, True, True, True, False]
    assert visible(side3) == [True, True, True, True, False, True, True, True, True, False]
    assert visible(battle) == [False, True, True, False, False, False, False, False, False, True]
    st, *rest = do_new()
    assert st == empty_state() and rest == [[]] * MAX_COLS + [""] * MAX_COLS + [""]


def test_the_chatbots_show_errors_streaming_placeholders_and_timings():
    chat = {"models": ["m1", "m2"], "messages": [
        {"role": "user", "content": "q", "col": None},
        {"role": "assistant", "content": "", "col": 0, "status": "error", "error": "boom"}]}
    streaming = [ColumnState("m1", status="done", text="", first_token_s=0.5, seconds=2.0, template="alpaca"),
                 ColumnState("m2", status="waiting", notice="cut 1 turn")]
    bots = views(chat, streaming)
    assert bots[0] == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "\n\n*error: boom*"}]
    assert bots[1] == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "…"}]
    lines = status_lines(streaming)
    assert lines[0] == "**done** · template alpaca · first token 0.50s · 2.0s"
    assert lines[1] == "**waiting: another chat is using this model**\n\n⚠️ cut 1 turn" and lines[2:] == ["", ""]

