"""Streaming answers through the chat stack: a tiny transformers model and the real `openai`
client against a local OpenAI-compatible server; side by side; failures in one column; Stop;
history cut to fit; two sessions on one model."""
from __future__ import annotations

import json
import threading

import pytest

from pipeline import models
from pipeline.chat import ChatError, ChatSettings, Column, new_chat, regenerate, send, stop_run
from pipeline.chat.prompting import prepare
from tests.openai_server import OpenAIServer


@pytest.fixture(autouse=True)
def fresh_cache():
    models.unload()
    yield
    models.unload()


def register_tiny(store, path, name="tiny", template="chat"):
    store.register_model(name, "local", str(path), template=template)
    return name


def register_remote(store, server, name="remote"):
    store.register_model(name, "openai", "test-model", endpoint=server.url)
    return name


def final(snapshots):
    snapshots = list(snapshots)
    return snapshots, snapshots[-1]


def test_transformers_model_streams_and_the_answer_is_saved(store, tiny_model_dir):
    name = register_tiny(store, tiny_model_dir)
    chat_id = new_chat(store, [name])
    snaps, last = final(send(store, chat_id, "def add", [Column(name, ChatSettings(max_new_tokens=12))]))
    texts = [s[0].text for s in snaps if s[0].text]
    assert len(texts) > 1 and all(b.startswith(a) for a, b in zip(texts, texts[1:]))
    assert last[0].status == "done" and last[0].first_token_s is not None
    saved = store.get_chat(chat_id)["messages"]
    assert [(m["role"], m["content"]) for m in saved] == [("user", "def add"), ("assistant", last[0].text)]


def test_openai_client_streams_from_a_local_server(store):
    with OpenAIServer(chunk_delay_s=0.08) as server:  # slower than the UI's snapshot rate
        name = register_remote(store, server)
        chat_id = new_chat(store, [name], system="be brief")
        snaps, last = final(send(store, chat_id, "one two three", [Column(name)]))
        sent = server.requests[-1]["body"]
    assert last[0].text == "echo: one two three" and last[0].status == "done"
    assert len({s[0].text for s in snaps}) > 3  # word by word, not one final blob
    assert sent["stream"] is True and sent["messages"][0] == {"role": "system", "content": "be brief"}


def test_side_by_side_streams_both_columns(store, tiny_model_dir):
    with OpenAIServer(chunk_delay_s=0.02) as server:
        names = [register_tiny(store, tiny_model_dir), register_remote(store, server)]
        chat_id = new_chat(store, names, mode="side")
        snaps, last = final(send(store, chat_id, "a b c d e", [Column(n, ChatSettings(max_new_tokens=8))
                                                               for n in names]))
    assert [s.status for s in last] == ["done", "done"]
    assert last[1].text == "echo: a b c d e" and last[0].text
    # Both columns were seen part-way, not only at the end.
    assert any(0 < len(s[1].text) < len(last[1].text) for s in snaps)
    answers = [m for m in store.get_chat(chat_id)["messages"] if m["role"] == "assistant"]
    assert sorted((m["col"], m["model"]) for m in answers) == [(0, names[0]), (1, names[1])]


def test_a_model_that_fails_to_load_leaves_the_other_column_working(store, tmp_path):
    store.register_model("gone", "local", str(tmp_path / "no-such-checkpoint"))
    with OpenAIServer() as server:
        remote = register_remote(store, server)
        chat_id = new_chat(store, ["gone", remote], mode="side")
        _, last = final(send(store, chat_id, "hello", [Column("gone"), Column(remote)]))
    assert last[0].status == "error" and "does not exist" in last[0].error
    assert last[1].status == "done" and last[1].text == "echo: hello"


def test_endpoint_that_drops_mid_stream_keeps_the_partial_answer(store):
    with OpenAIServer(drop_after=3) as server:
        name = register_remote(store, server)
        chat_id = new_chat(store, [name])
        _, last = final(send(store, chat_id, "one two three four five", [Column(name)]))
    assert last[0].status == "error" and "before the answer finished" in last[0].error
    assert last[0].text == "echo: one two"
    saved = store.get_chat(chat_id)["messages"][-1]
    assert (saved["content"], saved["status"]) == ("echo: one two", "error") and saved["error"]


def test_empty_prompt_is_refused_and_nothing_is_stored(store, tiny_model_dir):
    name = register_tiny(store, tiny_model_dir)
    chat_id = new_chat(store, [name])
    with pytest.raises(ChatError, match="empty prompt"):
        list(send(store, chat_id, "  \n ", [Column(name)]))
    assert store.get_chat(chat_id)["messages"] == []


def test_a_prompt_longer_than_the_context_is_cut_with_a_notice(store, tiny_model_dir):
    name = register_tiny(store, tiny_model_dir)
    chat_id = new_chat(store, [name])
    long_prompt = "def add(a, b):\n    return a + b\n" * 200  # far beyond the tiny model's 256 positions
    _, last = final(send(store, chat_id, long_prompt, [Column(name, ChatSettings(max_new_tokens=8))]))
    assert last[0].status == "done"
    assert "too long" in last[0].notice and "256-token context" in last[0].notice


def test_old_turns_are_dropped_first_and_the_system_prompt_stays(store, tiny_model_dir):
    name = register_tiny(store, tiny_model_dir)
    spec = models.resolve(name)
    turns = []
    for i in range(12):
        turns += [{"role": "user", "content": f"Write a function that adds two numbers {i}"},
                  {"role": "assistant", "content": "def add(a, b):\n    return a + b\n"}]
    messages = [{"role": "system", "content": "SYS"}] + turns + [{"role": "user", "content": "last one"}]
    prepared = prepare(spec, messages, ChatSettings(max_new_tokens=64))
    assert prepared.dropped_turns > 0 and "earlier turn" in prepared.notice
    assert prepared.prompt.startswith("<|system|>SYS") and "last one" in prepared.prompt
    assert "numbers 0" not in prepared.prompt and "numbers 11" in prepared.prompt


def test_the_checkpoint_json_template_is_applied(store, tiny_model_dir, tmp_path):
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_model_dir, ckpt)
    (ckpt / "codetune.json").write_text(json.dumps({"template": "alpaca", "run": 1}))
    store.register_model("ckpt", "local", str(ckpt), template="chat")  # the JSON beside the weights wins
    prepared = prepare(models.resolve("ckpt"), [{"role": "user", "content": "Reverse a list"}],
                       ChatSettings(max_new_tokens=16))
    assert "### Instruction:\nReverse a list" in prepared.prompt and prepared.prompt.endswith("### Response:\n")
    assert "\n### Instruction:" in prepared.stop


def test_stop_keeps_the_partial_answer(store):
    with OpenAIServer(chunk_delay_s=0.05) as server:
        name = register_remote(store, server)
        chat_id = new_chat(store, [name])
        seen = []
        for states in send(store, chat_id, " ".join(["w"] * 60), [Column(name)], run_key="k1"):
            seen.append(states[0])
            if states[0].text.count("w") >= 3:
                assert stop_run("k1")
        last = seen[-1]
    assert last.status == "stopped" and 0 < last.text.count("w") < 60
    assert store.get_chat(chat_id)["messages"][-1]["status"] == "stopped"


def test_regenerate_replaces_the_last_answers(store):
    replies = iter(["first", "second"])
    with OpenAIServer(reply=lambda body: next(replies)) as server:
        name = register_remote(store, server)
        chat_id = new_chat(store, [name])
        list(send(store, chat_id, "hi", [Column(name)]))
        _, last = final(regenerate(store, chat_id, [Column(name)]))
    answers = [m["content"] for m in store.get_chat(chat_id)["messages"] if m["role"] == "assistant"]
    assert last[0].text == "second" and answers == ["second"]


def test_two_sessions_on_one_local_model_are_queued_and_both_answered(store, tiny_model_dir):
    from tests.helpers import until

    name = register_tiny(store, tiny_model_dir)
    settings = ChatSettings(max_new_tokens=120)
    chats = [new_chat(store, [name]), new_chat(store, [name])]
    results: dict[int, list] = {0: [], 1: []}

    def session(i):
        for states in send(store, chats[i], "def add", [Column(name, settings)]):
            results[i].append((states[0].status, states[0].text))

    loaded = models.load(name)
    loaded.lock.acquire()          # another session is answering with this model right now
    threads = [threading.Thread(target=session, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        until(lambda: all(any(st == "waiting" for st, _ in results[i]) for i in range(2)), 60,
              "both sessions to show they wait for the model")
    finally:
        loaded.lock.release()
    for t in threads:
        t.join(120)
    finals = [results[i][-1] for i in range(2)]
    assert all(status == "done" and text for status, text in finals)
    assert finals[0][1] == finals[1][1]  # greedy, same model, same prompt
    statuses = {st for i in range(2) for st, _ in results[i]}
    assert "waiting" in statuses  # each was visibly queued behind the other answer
