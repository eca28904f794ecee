"""The Quickstart tab's handlers called directly (no browser) on a real store: the first page on
an empty store, refused settings, a hosted studio's blockers, and a road started from the form
whose first step fails, followed by the timer until it stops."""
from __future__ import annotations

import re

from pipeline import jobs
from pipeline.quickstart.road import STEPS, QuickstartConfig
from studio import quickstart_tab as tab
from tests.quickstart_helpers import make_source
from tests.studio.handlers import SKIP, refused


def form(source, **changes) -> list:
    """The form's values in the order the page sends them (quickstart_config's fields)."""
    values = dict(source=str(source), subdir="", base="", labeller="docstring", train_steps=2, eval_tasks=1)
    values.update(changes)
    return list(values.values())


def states(steps_html: str) -> list[str]:
    return re.findall(r"data-state='(\w+)'", steps_html)


def test_an_empty_store_greets_a_newcomer_with_the_plan(studio_home, tmp_path):
    source = make_source(tmp_path / "src")
    intro, base, labeller, job_id, box, steps, timer = tab.load(*form(source, eval_tasks=5))
    assert intro.startswith("**New here?** One click walks the whole road")
    assert "the first 5 of HumanEval's 164 tasks" in intro and "Before you start" not in intro
    default = QuickstartConfig.default("base_model")
    assert base["choices"] == [default] and base["value"] == default    # an empty base box means the default
    assert labeller["choices"] == ["docstring"]
    assert job_id is None and "Not started yet." in box
    assert states(steps) == ["todo"] * len(STEPS)
    assert timer.active is False


def test_bad_settings_are_refused_and_a_half_edited_form_keeps_the_view(store, tmp_path):
    source = make_source(tmp_path / "src")
    message = refused(tab.start_road, *form(source, eval_tasks=500))
    assert "must be at most 164" in message
    assert "must be at least 1" in refused(tab.load, *form(source, train_steps=0))
    assert tab.tick(7, *form(source, train_steps=0)) == (SKIP, SKIP, SKIP)
    _, _, timer = tab.tick(None, *form(source))
    assert timer.active is False
    assert store.list_jobs(kind="quickstart") == []


def test_a_hosted_studio_says_what_would_stop_the_road_and_refuses_to_start(store, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    source = make_source(tmp_path / "src")
    intro, *_ = tab.load(*form(source))
    assert "**Before you start:**" in intro and "read a server path" in intro
    assert "cannot run here" in refused(tab.start_road, *form(source))
    assert store.list_jobs(kind="quickstart") == []


def test_a_started_road_is_followed_until_its_job_ends(store, tmp_path):
    source = make_source(tmp_path / "src")
    settings = form(source, base="nowhere")           # not registered: the road stops at its first step
    jid, box, steps, command, timer = tab.start_road(*settings)
    assert f"data-job-id='{jid}'" in box and timer.active is True
    assert command.startswith("python -m pipeline quickstart run") and command.endswith(" --wait")
    assert "--base-model nowhere" in command and f"--source {source}" in command

    assert "already running" in refused(tab.start_road, *settings)      # one road at a time
    _, _, _, shown_id, _, _, timer = tab.load(*settings)                # a reload finds the running road
    assert shown_id == jid

    job = jobs.wait(store, jid, timeout=180)
    assert job["status"] == "failed" and "nowhere is not registered" in job["error"]
    box, steps, timer = tab.tick(jid, *settings)
    assert "data-status='failed'" in box and "nowhere is not registered" in box
    assert "running" not in states(steps) and timer.active is False   # the poll stops
