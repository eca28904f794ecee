"""An unvoted battle never shows its model names (in A/B order or any other): not in the
Conversations table's rows, `chat list`, `chat show`, nor an export; the vote reveals them."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.chat import ChatError, Column, export_jsonl, new_chat, send, send_to_pairs
from pipeline.chat.arena import blind, shown_models, vote
from pipeline.chat.conversation import read_jsonl
from tests.openai_server import OpenAIServer

NAMES = ("secret-alpha-model", "secret-beta-model")


@pytest.fixture
def battle(store):
    with OpenAIServer(models=NAMES, reply=lambda body: "def f():\n    return 1\n") as server:
        for name in NAMES:
            store.register_model(name, "openai", name, endpoint=server.url)
        chat_id = new_chat(store, list(NAMES), mode="battle")
        list(send(store, chat_id, "Write f", [Column(NAMES[0], label="Model A"), Column(NAMES[1], label="Model B")]))
        yield chat_id


def cli(*args) -> str:
    out = subprocess.run([sys.executable, "-m", "pipeline", "chat", *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def leaks(text: str) -> bool:
    return any(name in text for name in NAMES)


def test_conversations_table_rows_hide_the_names_until_the_vote(store, battle):
    [row] = store.list_chats()
    assert shown_models(row) == ["Model A", "Model B"]
    vote(store, battle, "a")
    [row] = store.list_chats()
    assert shown_models(row) == list(NAMES)


def test_chat_list_and_show_hide_the_names_until_the_vote(store, battle):
    assert not leaks(cli("list")) and "Model A, Model B" in cli("list")
    assert not leaks(cli("show", str(battle)))
    vote(store, battle, "b")
    assert leaks(cli("list")) and leaks(cli("show", str(battle)))


def test_an_export_hides_the_names_of_unvoted_battles(store, battle, tmp_path):
    export_jsonl(store, None, tmp_path / "chats.jsonl")
    assert not leaks((tmp_path / "chats.jsonl").read_text())
    [record] = read_jsonl(tmp_path / "chats.jsonl")
    assert record["models"] == ["Model A", "Model B"] and record["columns"][1]["model"] == "Model B"
    vote(store, battle, "tie")
    export_jsonl(store, None, tmp_path / "after.jsonl")
    assert read_jsonl(tmp_path / "after.jsonl")[0]["models"] == list(NAMES)


def test_side_by_side_conversations_show_their_names(store, battle):
    side = store.create_chat(list(NAMES), mode="side")
    assert blind(store.get_chat(side))["models"] == list(NAMES)


def test_an_unvoted_battles_answers_wait_for_the_vote_before_becoming_pairs(store, battle):
    with pytest.raises(ChatError, match="vote on this battle first"):
        send_to_pairs(store, battle)
    vote(store, battle, "a")
    assert len(send_to_pairs(store, battle)) == 2


@pytest.mark.slow
def test_a_visitor_calling_the_studio_over_http_sees_no_names_before_the_vote(studio_home, store):
    """The Conversations table's and the Open button's endpoints, called the way any visitor's
    script can (gradio's HTTP API), against the real app process."""
    import json
    import os
    import time
    import urllib.request
    from pathlib import Path

    from gradio_client import Client

    from tests.browser import free_port

    chat_id = store.create_chat(list(NAMES), mode="battle")
    store.add_message(chat_id, "user", "Write f", turn=0)
    port = free_port()
    env = dict(os.environ, STUDIO_HOME=str(studio_home), STUDIO_NO_DEFAULT_MODEL="1", GRADIO_ANALYTICS_ENABLED="False")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(["timeout", "300", sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the app did not start"
                time.sleep(0.5)
        client = Client(base, verbose=False)
        table = client.predict(api_name="/list_chats")
        opened = client.predict(chat_id, api_name="/do_open")
        assert not leaks(json.dumps(table)) and not leaks(json.dumps(opened, default=str))
        assert table["data"][0][4] == "Model A, Model B"
        vote_row = store.add_message(chat_id, "assistant", "a", turn=0, model=NAMES[0], col=0)
        store.add_message(chat_id, "assistant", "b", turn=0, model=NAMES[1], col=1)
        assert vote_row and vote(store, chat_id, "tie")
        assert leaks(json.dumps(client.predict(api_name="/list_chats")))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
