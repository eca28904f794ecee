"""The Train tab's handlers without a browser, on a real store: the lists, the preview, the
followed run's panel, compare, and the refusals (no run picked, a bad setting, nothing to compare).
Training itself is the browser test's and tests/train's."""
from __future__ import annotations

import gradio as gr

from pipeline.train.config import TrainConfig
from studio import train_tab
from tests.studio.handlers import SKIP
from tests.studio.handlers import warned as _warned
from tests.train_helpers import freeze_dataset, register_tiny


def _form(**values) -> list:
    """The form's values as the page sends them: numbers as floats, list fields as text."""
    out = []
    for name in train_tab.NAMES:
        value = values.get(name, TrainConfig.default(name))
        if isinstance(value, list):
            value = ",".join(value)
        out.append(float(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    return out


def _run(store, name: str, status: str = "done", **config) -> dict:
    run = store.create_run(name, {"method": "lora", **config}, dataset="toy", dataset_version=1, method="lora",
                           base_model="tiny", total_steps=4)
    store.update_run(run["id"], status=status, step=4)
    return store.get_run(run["id"])


def test_an_empty_store_offers_nothing_to_pick(store):
    models, datasets, runs, table, compare, ckpts = train_tab.refresh_lists(None, None, None)
    assert models["choices"] == datasets["choices"] == runs["choices"] == []
    assert models["value"] is datasets["value"] is runs["value"] is None
    assert table == [] and compare["choices"] == [] and ckpts["choices"] == []


def test_the_lists_offer_trainable_models_and_the_newest_dataset_first(store, studio_home):
    register_tiny(store, studio_home, "tiny")
    store.register_model("remote", "openai", "gpt-4o-mini", endpoint="http://127.0.0.1:9/v1")
    freeze_dataset(store, "toy", copies=1)
    freeze_dataset(store, "other", copies=1)
    _run(store, "first", step=4)
    store.log_run_metrics(store.get_run("first")["id"], 4, {"loss": 1.234567})
    models, datasets, runs, table, compare, _ = train_tab.refresh_lists(None, None, None)
    assert models["choices"] == ["tiny"]           # an endpoint cannot be fine-tuned
    assert sorted(datasets["choices"]) == ["other@1", "toy@1"]
    assert datasets["value"] == "other@1"          # a first visit: the newest frozen dataset
    assert runs["choices"] == compare["choices"] == ["first"]
    assert table[0][1:7] == ["first", "done", "lora", "toy@1", "4/4", 1.2346]   # loss rounded for the table
    assert "device-hours" in table[0][7]
    _, datasets, *_ = train_tab.refresh_lists("tiny", "toy@1", None)
    assert datasets["value"] == "toy@1"            # the person's pick stays


def test_the_form_becomes_the_config_with_integer_boxes_as_integers():
    cfg = train_tab.config_from_form(_form(base_model="tiny", dataset="toy", max_steps=12))
    assert cfg.max_steps == 12 and isinstance(cfg.max_steps, int)
    assert cfg.base_model == "tiny" and cfg.dataset == "toy"


def test_preview_shows_the_command_and_estimate_without_writing_a_run(store, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    freeze_dataset(store)
    summary, text = train_tab.preview_run(*_form(base_model="tiny", dataset="toy", max_steps=4, device="cpu"))
    assert summary and "accelerate" in text and "toy@1" in text
    assert store.list_runs() == []


def test_a_bad_setting_is_one_warning_and_starts_nothing(store):
    result, warned = _warned(train_tab.start_run, *_form(base_model="tiny", dataset="toy", max_steps=999999999))
    assert result == SKIP and len(warned) == 1 and "must be at most 1000000" in warned[0]
    assert store.list_runs() == [] and store.list_jobs() == []


def test_stop_and_resume_without_a_run_ask_for_one(store):
    for handler in (train_tab.stop_run, train_tab.resume_run):
        result, warned = _warned(handler, None)
        assert result == SKIP and warned == ["Start or pick a run first"]


def test_a_finished_run_is_drawn_once_and_the_timer_stops(store):
    run = _run(store, "lora-a")
    for step, loss in ((1, 2.0), (2, 1.5)):
        store.log_run_metrics(run["id"], step, {"loss": loss})
    status, plot, log, timer = train_tab.poll_run(run["id"])
    assert "data-points='2'" in status and f"data-run-id='{run['id']}'" in status and "lora-a" in status
    assert plot.title == "Loss · lora-a" and log == ""
    assert timer.active is False


def test_no_run_followed_leaves_the_panel_as_it_is(store):
    status, plot, log, timer = train_tab.poll_run(None)
    assert status == plot == log == SKIP and timer.active is False
    rid, status, *_ = train_tab.follow_newest(None)   # empty store: still nothing to follow
    assert rid is None and status == SKIP


def test_following_a_run_that_is_gone_keeps_the_panel(store):
    result, warned = _warned(train_tab.follow_newest, 999)
    assert result == SKIP and len(warned) == 1 and "999" in warned[0]


def test_opening_the_page_follows_the_newest_run(store):
    _run(store, "older")
    newest = _run(store, "newer")
    rid, status, *_ = train_tab.follow_newest(None)
    assert rid == newest["id"] and "newer" in status


def test_compare_diffs_the_first_two_runs_and_plots_every_one(store):
    a, b = _run(store, "a", learning_rate=0.001), _run(store, "b", learning_rate=0.002)
    store.log_run_metrics(a["id"], 1, {"loss": 2.0})
    store.log_run_metrics(b["id"], 1, {"loss": 1.0})
    diff, plot = train_tab.compare_runs(["a", "b"])
    assert ["learning_rate", "0.001", "0.002"] in diff
    assert sorted(plot["curve"]) == ["a loss", "b loss"]
    diff, plot = train_tab.compare_runs(["a"])
    assert diff == [] and list(plot["run"]) == ["a"]
    result, warned = _warned(train_tab.compare_runs, [])
    assert result == SKIP and warned == ["Pick one or more runs to compare"]


def test_clicking_a_row_of_the_runs_table_follows_that_run(store):
    _run(store, "a")
    b = _run(store, "b")
    table = [[b["id"], "b"], [b["id"] - 1, "a"]]
    evt = gr.SelectData(None, {"index": [0, 1], "value": "b", "row_value": table[0]})
    rid, status = train_tab.select_run(evt, table)
    assert rid == b["id"] and f"data-run-id='{b['id']}'" in status


def test_merging_or_carding_an_unknown_checkpoint_is_refused(store):
    for handler in (train_tab.merge_checkpoint, train_tab.preview_model_card):
        result, warned = _warned(handler, "nope")
        assert result == SKIP and len(warned) == 1 and "nope" in warned[0]
