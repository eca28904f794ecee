"""The quickstart road: its plan, its idempotent steps and the whole road on tiny models."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.errors import ConfigError, StudioError
from pipeline.quickstart.road import STEPS, QuickstartConfig, Road, expected_seconds, start_quickstart
from tests.quickstart_helpers import make_source
from tests.train_helpers import register_tiny

ROOT = Path(__file__).resolve().parents[2]


def tiny_road(tmp_path, **overrides) -> QuickstartConfig:
    values = dict(source=str(make_source(tmp_path / "src")), subdir="", base_model="tiny", train_steps=2,
                  max_length=512, eval_tasks=1, eval_max_new_tokens=16, run_name="qs-tiny")
    values.update(overrides)
    return QuickstartConfig.from_dict(values)


def test_the_plan_names_every_step_with_its_expected_duration(store, tmp_path):
    cfg = tiny_road(tmp_path)
    rows = Road(store, cfg).status()
    assert [r["key"] for r in rows] == [s.key for s in STEPS]
    assert not any(r["done"] for r in rows)
    assert all(r["expected_s"] > 0 and r["what"] and r["next"] for r in rows)
    whole = expected_seconds(store, QuickstartConfig())
    assert whole == sum(r["expected_s"] for r in Road(store, QuickstartConfig()).status()) or \
        abs(whole - sum(r["expected_s"] for r in Road(store, QuickstartConfig()).status())) < len(STEPS)


def test_bad_settings_are_refused_with_the_flag_name(tmp_path):
    with pytest.raises(ConfigError, match="--eval-tasks must be at most 164"):
        tiny_road(tmp_path, eval_tasks=500)
    with pytest.raises(ConfigError, match="--train-steps must be at least 1"):
        tiny_road(tmp_path, train_steps=0)


def test_a_base_model_that_is_not_registered_is_a_clear_step_error(store, tmp_path):
    road = Road(store, tiny_road(tmp_path, base_model="nowhere"))
    with pytest.raises(StudioError, match="nowhere is not registered"):
        STEPS[0].run(road)


def test_the_data_steps_are_idempotent(store, tmp_path, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    road = Road(store, tiny_road(tmp_path))
    assert STEPS[0].done(road) == "tiny is registered"
    job = jobs.wait(store, STEPS[1].run(road), timeout=120)        # curate
    assert job["status"] == "done", job["error"]
    assert "4 functions" in STEPS[1].done(road)
    job = jobs.wait(store, STEPS[2].run(road), timeout=120)        # label with docstrings
    assert job["status"] == "done", job["error"]
    assert STEPS[2].done(road) == "4 instruction pairs"
    STEPS[3].run(road)                                             # review
    assert STEPS[3].done(road) == "4 pairs approved"
    STEPS[4].run(road)                                             # freeze
    assert STEPS[4].done(road) == "quickstart@1: 4 pairs"
    assert [r["done"] for r in road.status()][:5] == [True] * 5


def test_only_one_quickstart_runs_at_a_time(store, tmp_path):
    cfg = tiny_road(tmp_path)
    store.create_job("quickstart", cfg.to_dict())   # queued, as a running one would be
    with pytest.raises(StudioError, match="already running"):
        start_quickstart(store, cfg)


def test_the_cli_prints_the_plan(studio_home, tmp_path):
    env = dict(os.environ, STUDIO_HOME=str(studio_home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pipeline", "quickstart", "plan", "--eval-tasks", "5"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "1. Prepare the base model" in out.stdout and "8. Evaluate the tuned checkpoint" in out.stdout
    assert "whole road: about" in out.stdout


@pytest.mark.slow
def test_the_whole_road_on_tiny_models(store, tmp_path, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    job_id = start_quickstart(store, tiny_road(tmp_path))
    job = jobs.wait(store, job_id, timeout=900)
    assert job["status"] == "done", (job["error"], jobs.tail_log(job_id, 4000))
    road = Road(store, tiny_road(tmp_path))
    assert all(r["done"] for r in road.status())
    tuned = road.tuned_model()
    assert tuned and tuned.startswith("qs-tiny")
    assert road.eval_of("tiny")["status"] == "done" and road.eval_of(tuned)["status"] == "done"
    assert [s["step"] for s in job["result"]["steps"]] == [s.key for s in STEPS]
    again = jobs.wait(store, start_quickstart(store, tiny_road(tmp_path)), timeout=120)   # nothing redone
    assert again["status"] == "done" and store.list_runs()[0]["name"] == "qs-tiny" and len(store.list_runs()) == 1


def test_hosted_the_road_says_what_would_stop_it_before_it_starts(store, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    cfg = tiny_road(tmp_path)
    blockers = Road(store, cfg).blockers()
    assert len(blockers) == 2
    assert "read a server path" in blockers[0] and "model-written code" in blockers[1]
    with pytest.raises(StudioError, match="cannot run here: .*read a server path"):
        start_quickstart(store, cfg)
    assert store.list_jobs(kind="quickstart") == []          # nothing started, nothing half-done
    monkeypatch.delenv("STUDIO_HOSTED")
    assert Road(store, cfg).blockers() == []


def test_the_tuned_model_is_the_checkpoint_not_its_gguf_copy(store, tmp_path):
    # an auto eval gives a big-enough checkpoint a q8_0 GGUF registered with the same run (lineage);
    # the road must keep evaluating and reporting the checkpoint itself
    cfg = tiny_road(tmp_path)
    run = store.create_run(cfg.run_name, {"method": "lora"}, status="done")
    store.register_model("qs-tiny-step2", "local", str(tmp_path / "ckpt"), run_id=run["id"])
    store.register_model("qs-tiny-step2-q8_0", "gguf", str(tmp_path / "ckpt.gguf"), run_id=run["id"])
    assert Road(store, cfg).tuned_model() == "qs-tiny-step2"
