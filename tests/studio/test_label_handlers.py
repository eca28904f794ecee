"""The Label tab's handlers called directly (no browser) on a real store: an empty store, refused
input, the prompt editor and the price table, and a labelling job against a local endpoint whose
failed row is retried."""
from __future__ import annotations

import pandas as pd

from pipeline import jobs
from pipeline.label.labeller import LabelConfig
from studio import label_tab as tab
from tests.label_helpers import add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer
from tests.studio.handlers import SKIP, refused


def form(**changes) -> list:
    """The form's values in the order the page sends them (label_config's fields)."""
    values = dict(model="docstring", prompt=None, language="", repo="", limit=None,
                  concurrency=LabelConfig.default("concurrency"), budget=None, batch=False,
                  max_new_tokens=LabelConfig.default("max_new_tokens"),
                  temperature=LabelConfig.default("temperature"),
                  expected_out=LabelConfig.default("expected_output_tokens"),
                  max_retries=LabelConfig.default("max_retries"), timeout=LabelConfig.default("request_timeout_s"))
    values.update(changes)
    return list(values.values())


def test_an_empty_store_offers_the_docstring_labeller_and_nothing_to_label(studio_home):
    models, prompts, prices, failed = tab.refresh(None, None)
    assert models["choices"] == ["docstring"] and models["value"] == "docstring"
    assert prompts["value"] == (prompts["choices"][-1] if prompts["choices"] else None)
    assert failed == [] and all(len(row) == len(tab.PRICE_COLUMNS) for row in prices)
    assert tab.estimate(*form()) == ("**Estimate:** nothing to label: every selected snippet already has a pair "
                                     "for this model and prompt")
    assert "Nothing left to label" in refused(tab.preview, *form())
    assert tab.tick(None, "docstring") == (SKIP, SKIP, SKIP)
    assert tab.load_prompt(None) == ("", "", "")


def test_bad_settings_are_refused_and_start_no_job(store):
    add_snippets(store, 2)
    assert "no-such-model" in refused(tab.run_labelling, *form(model="no-such-model"), "")
    message = refused(tab.estimate, *form(max_retries=-1))
    assert "--max-retries" in message or "“Retries per request”" in message   # the box's label once a form is built
    assert "{code}" in refused(tab.save_prompt, "mine", "", "describe this")
    assert store.count("jobs") == 0


def test_the_prompt_editor_saves_a_new_version_and_previews_it(store):
    add_snippets(store, 1, docstring="Return the number.")
    endpoint = store.register_model("endpoint", "openai", "served-model", endpoint="http://127.0.0.1:9/v1")
    _, prompts, _, _ = tab.refresh(endpoint["name"], None)
    name, _system, template = tab.load_prompt(prompts["value"])
    assert "{code}" in template

    saved = tab.save_prompt(name, "Be brief.", template + "\nOne sentence.")
    assert saved["value"] == f"{name}@2" and saved["value"] in saved["choices"]
    messages = tab.preview(*form(model="endpoint", prompt=saved["value"]))
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert "def snippet_0():" in messages[-1]["content"] and messages[-1]["content"].endswith("One sentence.")
    assert tab.preview(*form()) == [{"role": "docstring", "content": "Return the number."}]


def test_prices_save_from_rows_or_a_dataframe_and_skip_rows_without_a_model(studio_home):
    rows = tab.save_prices([["model-a", 1.0, 2.0, None], ["", 5, 5, 0.1], ["model-b", 3, 4, 0.25]])
    by_model = {r[0]: r for r in rows}
    assert by_model["model-a"][1:] == [1.0, 2.0, 0.5] and by_model["model-b"][1:] == [3, 4, 0.25]
    assert "" not in by_model
    frame = pd.DataFrame([["model-a", 9.0, 9.5, 0.5]], columns=tab.PRICE_COLUMNS)
    assert {r[0]: r for r in tab.save_prices(frame)}["model-a"][1:] == [9.0, 9.5, 0.5]


def test_a_labelling_job_runs_shows_its_failed_row_and_retries_it(store):
    with LabelServer(latency_s=0.01) as server:
        ids = add_snippets(store, 3, language="handlerlang")
        register_endpoint(store, server, name="handler-labeller")
        server.faults["snippet_1"] = ["empty"]
        settings = form(model="handler-labeller", language="handlerlang")
        assert tab.estimate(*settings).startswith("**Estimate:** 3 snippets")

        jid, progress = tab.run_labelling(*settings, "")
        assert f"data-job-id='{jid}'" in progress
        assert jobs.wait(store, jid, timeout=180)["status"] == "done"
        shown, failed, still = tab.tick(jid, "handler-labeller")
        assert "data-status='done'" in shown and "2 labelled, 1 failed" in shown and still is None
        assert [row[1] for row in failed] == [ids[1]]   # snippet_1's empty reply
        assert tab.show_failed("handler-labeller") == failed

        jid, _ = tab.retry_failed(*settings, "")
        assert jobs.wait(store, jid, timeout=180)["status"] == "done"
        shown, failed, _ = tab.tick(jid, "handler-labeller")
        assert "1 labelled, 0 failed" in shown and failed == []
        assert len([p for p in label_pairs(store, "handler-labeller") if p["status"] != "failed"]) == 3
