"""Distributed paths that really run on this CPU machine, end to end through the job and
`accelerate launch`: DDP and FSDP2 with two gloo processes, DeepSpeed ZeRO-2/3 with one process
(why not more: pipeline/train/launch.py). The generated configs are checked in test_train_launch."""
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
    assert len(losses) == 4 and losses[-1] < losses[0]   # step 1 (the first live point), then every 2
    assert [c["name"] for c in store.run_checkpoints(run["id"])] == ["ddp-step3", "ddp-step6"]
    # Each optimizer step consumed a batch per rank: 2 epochs of 24 rows packed, in 6 steps.
    assert store.run_metrics(run["id"])[-1]["epoch"] == pytest.approx(2.0)



@pytest.mark.parametrize("mode,method", [("fsdp_full", "full"), ("fsdp_grad_op", "lora")])
def test_fsdp_with_two_cpu_processes_shards_trains_and_saves(toy, mode, method):  # noqa: F811
    """Each gloo rank holds half of every parameter (FSDP2 DTensors), the loss goes down, and the
    checkpoints rank 0 gathers (FULL_STATE_DICT) are registered models that load with transformers.
    The full run also checkpoints activations (FSDP's own; the trainer refuses to do it twice)."""
    import torch
    from transformers import AutoModelForCausalLM

    store = toy
    run = start_run(store, tiny_config(run_name=mode, distributed=mode, method=method, max_steps=6,
                                       save_steps=3, learning_rate=2e-2 if method == "lora" else 2e-3,
                                       gradient_checkpointing=method == "full"))
    assert run["num_devices"] == 2 and "distributed_type: FSDP" in run["launch_files"]["accelerate.yaml"]
    done = finish(store, run)
    log = jobs.tail_log(done["job_id"], 200_000)
    assert "rank 0/2: FSDP on cpu" in log and "rank 1/2: FSDP on cpu" in log
    base = AutoModelForCausalLM.from_pretrained(store.get_model("tiny")["path"])
    trainable = sum(p.numel() for p in base.parameters())
    if method == "lora":  # the LoRA weights are sharded too, so the full size is bigger than the base's
        shards = [line for line in log.splitlines() if "FSDP shards:" in line]
        assert len(shards) == 2 and all("(50.0%)" in line for line in shards), shards
    else:
        for rank in (0, 1):
            assert (f"rank {rank} FSDP shards: 21 of 21 parameter tensors are DTensors; "
                    f"local {trainable // 2} of {trainable} elements") in log
    assert done["status"] == "done" and done["step"] == 6
    losses = [m["loss"] for m in store.run_metrics(run["id"])]
    assert len(losses) == 4 and losses[-1] < losses[0]   # step 1 (the first live point), then every 2
    ckpts = store.run_checkpoints(run["id"])
    assert [c["name"] for c in ckpts] == [f"{mode}-step3", f"{mode}-step6"]
    if method == "full":
        trained = AutoModelForCausalLM.from_pretrained(ckpts[-1]["path"])
        assert sum(p.numel() for p in trained.parameters()) == trainable
        assert not torch.equal(trained.lm_head.weight, base.lm_head.weight)
    else:
        from peft import PeftModel

        trained = PeftModel.from_pretrained(base, ckpts[-1]["path"])
        assert ckpts[-1]["base"] == store.get_model("tiny")["path"]
        lora_b = [p for n, p in trained.named_parameters() if "lora_B" in n]
        assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # lora_B starts at zero



@pytest.mark.parametrize("mode", ["zero2", "zero3"])
def test_deepspeed_zero_with_one_cpu_process_end_to_end(toy, mode):  # noqa: F811
    """DeepSpeed's CPU accelerator over gloo, ZeRO's optimizer around the trainer's AdamW, no op
    JIT-built (the shared-memory comm op is skipped); the saved weights load with transformers."""
    import torch
    from transformers import AutoModelForCausalLM

    store = toy
    run = start_run(store, tiny_config(run_name=mode, distributed=mode, method="full", max_steps=6,
                                       save_steps=3, learning_rate=2e-3))
    assert run["num_devices"] == 1 and "distributed_type: DEEPSPEED" in run["launch_files"]["accelerate.yaml"]
    done = finish(store, run)
    log = jobs.tail_log(done["job_id"], 200_000)
    optimizer = {"zero2": "DeepSpeedZeroOptimizer", "zero3": "DeepSpeedZeroOptimizer_Stage3"}[mode]
    assert "rank 0/1: DEEPSPEED on cpu" in log and f"ZeRO stage {mode[-1]}: {optimizer} over AdamW" in log
    assert "shm_comm" not in log  # nothing was compiled
    assert done["status"] == "done" and done["step"] == 6
    losses = [m["loss"] for m in store.run_metrics(run["id"])]
    assert len(losses) == 4 and losses[-1] < losses[0]   # step 1 (the first live point), then every 2
    ckpts = store.run_checkpoints(run["id"])
    assert [c["name"] for c in ckpts] == [f"{mode}-step3", f"{mode}-step6"]
    base = AutoModelForCausalLM.from_pretrained(store.get_model("tiny")["path"])
    trained = AutoModelForCausalLM.from_pretrained(ckpts[-1]["path"])
    assert sum(p.numel() for p in trained.parameters()) == sum(p.numel() for p in base.parameters())
    assert not torch.equal(trained.lm_head.weight, base.lm_head.weight)
