"""The Models tab's handlers without a browser, on a real store: the listing, registering and
removing (and the refusals of an incomplete form), and trying a prompt on a served endpoint."""
from __future__ import annotations

import gradio as gr
import pytest

from studio import models_tab
from tests.openai_server import OpenAIServer
from tests.studio.handlers import SKIP
from tests.studio.handlers import warned as _warned


def test_an_empty_store_lists_no_models(store):
    rows, tried, exported = models_tab.refresh()
    assert rows == [] and tried["choices"] == [] and exported["choices"] == []
    assert tried["value"] is None and exported["value"] is None


def test_registering_a_folder_and_an_endpoint_fills_the_table_and_the_pickers(store, studio_home):
    folder = studio_home / "ckpt-500"
    folder.mkdir()
    rows, tried, exported = models_tab.register_model("mine", "local", f" {folder} ", "", "", "", "alpaca")
    assert rows == [["mine", "local", str(folder), "", "", "", "alpaca"]]
    assert store.get_model("mine")["path"] == str(folder)
    rows, tried, exported = models_tab.register_model("remote", "openai", "gpt-4o-mini", "",
                                                      "http://127.0.0.1:9/v1", "", "chat")
    assert [r[0] for r in rows] == ["mine", "remote"]
    assert tried["choices"] == ["mine", "remote"]
    assert exported["choices"] == ["mine"]   # only a local folder can be exported to GGUF


def test_refresh_keeps_the_picks_still_offered(store, studio_home):
    for name in ("a", "b"):
        (studio_home / name).mkdir()
        models_tab.register_model(name, "local", str(studio_home / name), "", "", "", "chat")
    _, tried, exported = models_tab.refresh("b", "b")
    assert tried["value"] == "b" and exported["value"] == "b"
    _, tried, exported = models_tab.refresh("gone", None)
    assert tried["value"] == "a" and exported["value"] == "a"


@pytest.mark.parametrize("kind, path, endpoint, message", [
    ("local", "  ", "", "Give a path, hub id or model id"),
    ("openai", "gpt-4o-mini", " ", "An OpenAI-compatible model needs an endpoint base_url"),
])
def test_an_incomplete_form_is_one_warning_and_registers_nothing(store, kind, path, endpoint, message):
    result, warned = _warned(models_tab.register_model, "m", kind, path, "", endpoint, "", "chat")
    assert result == SKIP and warned == [message]
    assert store.list_models() == []


def test_a_bad_model_name_is_refused_with_the_validators_message(store, studio_home):
    result, warned = _warned(models_tab.register_model, "../escape", "local", str(studio_home), "", "", "", "chat")
    assert result == SKIP and len(warned) == 1
    assert store.list_models() == []


def test_remove_deletes_only_the_named_model(store, studio_home):
    for name in ("mine", "other"):
        models_tab.register_model(name, "local", str(studio_home), "", "", "", "chat")
    rows, tried, _ = models_tab.remove_model("mine")
    assert [r[0] for r in rows] == ["other"] and tried["choices"] == ["other"]
    assert [m["name"] for m in store.list_models()] == ["other"]


def test_removing_a_name_that_is_not_registered_says_so(store, studio_home):
    models_tab.register_model("mine", "local", str(studio_home), "", "", "", "chat")
    result, warned = _warned(models_tab.remove_model, "mnie")
    assert result == SKIP and warned == ["no model named 'mnie'"]
    assert [m["name"] for m in store.list_models()] == ["mine"]


def test_trying_a_prompt_streams_the_endpoints_reply_with_the_session_key(store):
    with OpenAIServer(key="sk-session") as srv:
        models_tab.register_model("remote", "openai", "test-model", "", srv.url, "", "chat")
        chunks = list(models_tab.do_try("remote", "sk-session", "one two three", 64, 0))
        assert chunks[-1] == "echo: one two three" and len(chunks) > 1
        assert srv.requests[-1]["body"]["max_tokens"] == 64
        with pytest.raises(gr.Error, match="rejected the API key"):
            list(models_tab.do_try("remote", "sk-wrong", "hello", 64, 0))


@pytest.mark.parametrize("model, prompt, message", [
    (None, "hello", "Pick a model"), ("remote", "   ", "Type a prompt first"),
])
def test_trying_without_a_model_or_a_prompt_sends_nothing(store, model, prompt, message):
    with pytest.raises(gr.Error, match=message):
        list(models_tab.do_try(model, None, prompt, 64, 0))
