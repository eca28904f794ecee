"""Real training runs of a tiny model through the job → accelerate launch → SFTTrainer path:
loss goes down, metrics and checkpoints reach the store, Stop saves and resumes, a killed job
leaves an interrupted run that resumes, a merged adapter generates what base + adapter does."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.train import TrainError
from pipeline.train.job import reconcile_runs, resume_run, start_run, stop_run
from tests.helpers import until
from tests.train_helpers import freeze_dataset, register_tiny, tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture
def toy(store, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    freeze_dataset(store)
    return store


STEPS = 300   # runs that a Stop or a kill interrupts: long enough never to end first


def wait_until(predicate, timeout=240, poll=0.3):
    return until(predicate, timeout, "the condition", poll)


def finish(store, run) -> dict:
    job = jobs.wait(store, store.get_run(run["id"])["job_id"], timeout=400)
    assert job["status"] == "done", (job["error"], jobs.tail_log(job["id"], 3000))
    return store.get_run(run["id"])


def test_lora_run_reduces_loss_and_registers_checkpoints(toy):
    store = toy
    run = finish(store, start_run(store, tiny_config(run_name="lora", learning_rate=2e-2)))
    assert run["status"] == "done" and run["step"] == 12
    losses = [m["loss"] for m in store.run_metrics(run["id"]) if m["loss"] is not None]
    assert len(losses) == 7 and losses[-1] < losses[0] - 0.05
    # the live curve starts at step 1, then every logging_steps
    assert [m["step"] for m in store.run_metrics(run["id"]) if m["loss"] is not None] == [1, 2, 4, 6, 8, 10, 12]
    metrics = store.run_metrics(run["id"])[-1]
    assert metrics["learning_rate"] and metrics["grad_norm"] and metrics["tokens_per_s"] > 0
    ckpts = store.run_checkpoints(run["id"])
    assert [c["name"] for c in ckpts] == ["lora-step6", "lora-step12"]
    last = ckpts[-1]
    assert last["base"] == str(store.get_model("tiny")["path"]) and last["template"] == "alpaca"
    marker = json.loads((Path(last["path"]) / "codetune.json").read_text())
    assert {k: marker[k] for k in ("run_id", "run_name", "step", "dataset", "dataset_version", "template",
                                   "method")} == {"run_id": run["id"], "run_name": "lora", "step": 12,
                                                  "dataset": "toy", "dataset_version": 1,
                                                  "template": "alpaca", "method": "lora"}
    assert marker["config"]["learning_rate"] == 2e-2 and marker["base_model"] == "tiny"
    assert (Path(run["output_dir"]).parent / "accelerate.yaml").read_text() == run["launch_files"]["accelerate.yaml"]

    # A merged adapter generates exactly what base + adapter generates.
    from pipeline.models import GenParams, generate
    from pipeline.train.outputs import merge_adapter

    merged = merge_adapter(store, "lora-step12")
    params = GenParams(max_new_tokens=12)
    prompts = ["def add(a, b):", "### Instruction:\nSquare a number."]
    assert generate("lora-step12", prompts, params) == generate(merged["name"], prompts, params)
    assert merged["run_id"] == run["id"] and merged["meta"]["merged_from"] == "lora-step12"


def test_full_run_stops_cleanly_and_resumes_from_its_step(toy):
    store = toy
    # Long enough that Stop lands mid-run: the tiny model trains ~50 steps a second on 2 cores.
    run = start_run(store, tiny_config(run_name="full", method="full", learning_rate=3e-3, max_steps=STEPS,
                                       save_steps=1000, logging_steps=1))
    wait_until(lambda: store.get_run(run["id"])["step"] >= 3)
    stop_run(store, run["id"])
    stopped = finish(store, run)
    assert stopped["status"] == "stopped" and 3 <= stopped["step"] < STEPS
    step = stopped["step"]
    assert [c["meta"]["step"] for c in store.run_checkpoints(run["id"])] == [step]  # Stop saved one
    resumed = finish(store, resume_run(store, run["id"]))
    assert resumed["status"] == "done" and resumed["step"] == STEPS
    assert resumed["result"]["resumed_from"].endswith(f"checkpoint-{step}")
    losses = [m["loss"] for m in store.run_metrics(run["id"])]
    assert [m["step"] for m in store.run_metrics(run["id"])] == list(range(1, STEPS + 1))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.1  # full fine-tune reduces loss
    with pytest.raises(TrainError, match="init_from_run=full"):
        resume_run(store, run["id"])


def test_killed_job_leaves_an_interrupted_run_that_resumes(toy):
    store = toy
    run = start_run(store, tiny_config(run_name="killed", max_steps=STEPS, save_steps=4, logging_steps=1))
    wait_until(lambda: len(store.run_checkpoints(run["id"])) >= 1)
    job = store.get_job(store.get_run(run["id"])["job_id"])
    os.killpg(job["pid"], signal.SIGKILL)  # the machine pulls the plug: no cleanup runs
    wait_until(lambda: not jobs.is_alive(job["pid"], job["pid_started"]))
    assert reconcile_runs(store) == [run["id"]]
    interrupted = store.get_run(run["id"])
    assert interrupted["status"] == "interrupted" and "resume" in interrupted["error"]
    saved = max(c["meta"]["step"] for c in store.run_checkpoints(run["id"]))
    done = finish(store, resume_run(store, run["id"]))
    assert done["status"] == "done" and done["step"] == STEPS
    assert done["result"]["resumed_from"].endswith(f"checkpoint-{saved}")


def test_a_run_killed_after_its_last_step_was_saved_resumes_to_done_without_an_extra_step(toy):
    """The kill can land after the last checkpoint and before the job says done; the trainer would
    take a step past max_steps on resume, so the run just ends at its last step."""
    store = toy
    run = finish(store, start_run(store, tiny_config(run_name="late-kill", max_steps=4, save_steps=2)))
    assert run["step"] == 4
    assert store.set_run_status(run["id"], "interrupted", error="killed; resume it")
    done = finish(store, resume_run(store, run["id"]))
    assert done["status"] == "done" and done["step"] == 4
    assert [c["meta"]["step"] for c in store.run_checkpoints(run["id"])] == [2, 4]   # no checkpoint-5
    log = jobs.tail_log(done["job_id"], 4000)
    assert "checkpoint-4 is the run's last step: nothing left to train" in log


def test_cancel_ends_every_training_process(toy):
    """accelerate does not pass SIGTERM on to its workers: a cancelled run must leave none behind."""
    import psutil

    store = toy
    run = start_run(store, tiny_config(run_name="cancelled", max_steps=400, save_steps=400, logging_steps=1))
    wait_until(lambda: store.get_run(run["id"])["step"] >= 1)
    job = store.get_job(store.get_run(run["id"])["job_id"])
    workers = [p for p in psutil.Process(job["pid"]).children(recursive=True)]
    assert any("pipeline.train.entry" in " ".join(p.cmdline()) for p in workers)
    assert jobs.cancel(store, job["id"])["status"] == "cancelled"
    wait_until(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers), timeout=60)
    assert store.get_run(run["id"])["status"] == "cancelled"
