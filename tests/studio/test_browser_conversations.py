"""Conversations in a real browser: a conversation pair shown and edited as its messages in the
Pairs tab, and FastChat battles imported into the arena leaderboard from the Chat tab."""
from __future__ import annotations

import json

import pytest

from pipeline.store import Store
from tests.browser import open_accordion, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TALK = [{"role": "user", "content": "Write a narwhal counter."}, {"role": "assistant", "content": "def count(n): return n"},
        {"role": "user", "content": "Now count tusks too."}, {"role": "assistant", "content": "def tusks(n): return 2 * n"}]


def test_a_conversation_pair_is_edited_as_its_messages(studio_page, studio_server):
    from pipeline.pairs.conversations import pair_row

    _, home = studio_server
    store = Store(home / "studio.db")
    store.insert_imported_pairs([{**pair_row(TALK), "origin": "import", "import_ref": "browser-narwhal:1"}])
    pair_id = store.pair_ids({"search": "narwhal"})[0]
    page = studio_page
    open_tab(page, "Pairs")
    search = page.locator("#pairs-search textarea, #pairs-search input").first
    search.fill("narwhal")
    search.press("Enter")
    page.locator("#pairs-table").get_by_text("Write a narwhal counter.").filter(visible=True).first.click()
    editor = page.locator("#pair-conversation .cm-content")
    editor.wait_for(timeout=60_000)
    assert "Now count tusks too." in editor.inner_text()
    assert page.locator("#pair-output textarea").is_disabled()  # the mirror is not edited by hand
    edited = [dict(m) for m in TALK]
    edited[2]["content"] = "Now count narwhal tusks, twice."
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    editor.fill(json.dumps(edited))
    page.locator("#pair-save-conversation").click()
    for _ in range(120):
        if json.loads(store.get_pair(pair_id)["messages"])[2]["content"] == edited[2]["content"]:
            break
        page.wait_for_timeout(250)
    assert json.loads(store.get_pair(pair_id)["messages"]) == edited
    assert [e["field"] for e in store.pair_history(pair_id)] == ["messages"]
    store.close()


def test_fastchat_battles_are_imported_into_the_leaderboard(studio_page, tmp_path):
    record = {"question_id": "q1", "model_a": "orca-x", "model_b": "puffin-y", "winner": "model_a", "judge": "u",
              "turn": 1, "anony": True, "language": "English", "tstamp": 1.0,
              "conversation_a": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a"}],
              "conversation_b": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "b"}]}
    path = tmp_path / "clean_battle.json"
    path.write_text(json.dumps([record, dict(record, question_id="q2", winner="tie")]))
    page = studio_page
    open_tab(page, "Chat")
    open_accordion(page, "Leaderboard", "#chat-battles-import")
    page.locator("#chat-battles-file input[type=file]").set_input_files(str(path))
    page.wait_for_timeout(1500)
    page.locator("#chat-battles-import").click()
    page.locator("#chat-battles-note").get_by_text("Imported 2 votes").wait_for(timeout=60_000)
    page.locator("#chat-leaderboard").get_by_text("orca-x").filter(visible=True).first.wait_for(timeout=60_000)
