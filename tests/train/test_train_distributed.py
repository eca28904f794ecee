"""Distributed paths that really run on this CPU machine: DDP with two gloo processes started by
`accelerate launch` (torchrun), end to end through the job. FSDP and DeepSpeed need CUDA here
(see pipeline/train/launch.py for why); their generated configs are checked in test_train_launch."""
from __future__ import annotations

import pytest

from pipeline import jobs
from pipeline.train.job import start_run
from tests.train.test_train_runs import finish, toy  # noqa: F401  (fixture)
from tests.train_helpers import tiny_config

pytestmark = pytest.mark.slow


def test_ddp_with_two_cpu_processes_end_to_end(toy):  # noqa: F811
    store = toy
    run = start_run(store, tiny_config(run_name="ddp", distributed="ddp", max_steps=6, save_steps=3,
                                       learning_rate=2e-2))
    assert run["num_devices"] == 2 and "MULTI_GPU" in run["launch_files"]["accelerate.yaml"]
    done = finish(store, run)
    log = jobs.tail_log(done["job_id"], 200_000)
    assert "rank 0/2: MULTI_CPU" in log and "rank 1/2: MULTI_CPU" in log  # two gloo ranks
    assert done["status"] == "done" and done["step"] == 6
    losses = [m["loss"] for m in store.run_metrics(run["id"])]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert [c["name"] for c in store.run_checkpoints(run["id"])] == ["ddp-step3", "ddp-step6"]
    # Each optimizer step consumed a batch per rank: 2 epochs of 24 rows packed, in 6 steps.
    assert store.run_metrics(run["id"])[-1]["epoch"] == pytest.approx(2.0)
