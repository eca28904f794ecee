"""Launch planning without training: generated accelerate/DeepSpeed configs, the command, the
memory estimate and its advice, the queue per device set, and the CLI's preview and errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.train.config import TrainConfig
from pipeline.train.launch import accelerate_config, deepspeed_config, estimate_memory, launch_files, resolve_hardware
from tests.train_helpers import freeze_dataset, register_tiny

ROOT = Path(__file__).resolve().parents[2]
CUDA_HW = {"device": "cuda", "gpu_ids": [0, 1], "num_processes": 2, "precision": "bf16",
           "attention": "sdpa", "devices": "cuda:0,1", "world_size": 2}


def test_cpu_single_process_config():
    hw = resolve_hardware(TrainConfig(device="cpu"))
    # packing is on by default: without flash-attn, sdpa per packed pair
    assert hw["devices"] == "cpu" and hw["precision"] == "fp32" and hw["attention"] == "sdpa_varlen"
    conf = accelerate_config(TrainConfig(device="cpu"), hw, Path("/r"))
    assert conf["distributed_type"] == "NO" and conf["use_cpu"] is True and conf["num_processes"] == 1


def test_cpu_ddp_uses_torchrun_with_two_processes():
    cfg = TrainConfig(device="cpu", distributed="ddp")
    hw = resolve_hardware(cfg)
    conf = accelerate_config(cfg, hw, Path("/r"))
    assert hw["num_processes"] == 2 and conf["distributed_type"] == "MULTI_GPU" and conf["num_processes"] == 2
    assert conf["use_cpu"] is False  # --cpu would force accelerate's single-process launcher


@pytest.mark.parametrize("mode,reshard", [("fsdp_full", True), ("fsdp_grad_op", False)])
def test_fsdp_sharding_strategy(mode, reshard):
    cfg = TrainConfig(distributed=mode, offload=True)
    conf = accelerate_config(cfg, CUDA_HW, Path("/r"))
    assert conf["distributed_type"] == "FSDP"
    assert conf["fsdp_config"]["fsdp_reshard_after_forward"] is reshard
    assert conf["fsdp_config"]["fsdp_offload_params"] is True


def test_multi_node_runs_the_same_command_with_its_rank():
    cfg = TrainConfig(distributed="ddp", num_machines=2, machine_rank=1, main_address="10.0.0.1", main_port=29555)
    hw = dict(CUDA_HW, world_size=4)
    conf = accelerate_config(cfg, hw, Path("/r"))
    assert (conf["num_machines"], conf["machine_rank"], conf["main_process_ip"], conf["main_process_port"],
            conf["num_processes"]) == (2, 1, "10.0.0.1", 29555, 4)


def test_cpu_deepspeed_is_one_process_without_use_cpu():
    cfg = TrainConfig(device="cpu", distributed="zero2")
    hw = resolve_hardware(cfg)
    conf = accelerate_config(cfg, hw, Path("/r"))
    assert hw["num_processes"] == 1 and conf["distributed_type"] == "DEEPSPEED"
    assert conf["use_cpu"] is False  # accelerate launch --cpu would skip DeepSpeed
    assert deepspeed_config(cfg, hw) == deepspeed_config(cfg, dict(CUDA_HW, precision="fp32"))


def test_cpu_deepspeed_refuses_several_processes_and_offload_with_the_reason():
    with pytest.raises(ConfigError, match="accelerate 1.15 counts DeepSpeed's CPU ranks as one"):
        resolve_hardware(TrainConfig(device="cpu", distributed="zero2", num_processes=2))
    with pytest.raises(ConfigError, match="JIT-build its CPU Adam"):
        resolve_hardware(TrainConfig(device="cpu", distributed="zero3", offload=True))


@pytest.mark.parametrize("mode,offload", [("zero2", False), ("zero3", True)])
def test_deepspeed_config_is_valid_for_deepspeed_itself(mode, offload):
    """The generated file, with the HF trainer's 'auto' values filled, parses in DeepSpeedConfig."""
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers import TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    cfg = TrainConfig(distributed=mode, offload=offload, batch_size=2, grad_accum=4)
    files = launch_files(cfg, dict(CUDA_HW, precision="fp32"), Path("/run"))
    conf = yaml.safe_load(files["accelerate.yaml"])
    assert conf["distributed_type"] == "DEEPSPEED"
    assert conf["deepspeed_config"]["deepspeed_config_file"] == "/run/deepspeed.json"
    hf = HfTrainerDeepSpeedConfig(json.loads(files["deepspeed.json"]))
    hf.trainer_config_process(TrainingArguments(output_dir="/tmp/unused", per_device_train_batch_size=2,
                                                gradient_accumulation_steps=4, use_cpu=True, report_to="none"))
    ds = DeepSpeedConfig(hf.config, mpu=None)
    assert ds.zero_optimization_stage == (3 if mode == "zero3" else 2)
    assert ds.train_micro_batch_size_per_gpu == 2 and ds.gradient_accumulation_steps == 4
    assert (ds.zero_config.offload_optimizer is not None) == offload


def test_cpu_fsdp_launches_two_processes_with_the_gpu_fsdp_config():
    """Same FSDP2 section as on GPUs; entry.py turns it on for the gloo ranks (see cpu_fsdp.py)."""
    cfg = TrainConfig(device="cpu", distributed="fsdp_full")
    hw = resolve_hardware(cfg)
    conf = accelerate_config(cfg, hw, Path("/r"))
    assert hw["num_processes"] == 2 and conf["distributed_type"] == "FSDP" and conf["use_cpu"] is False
    assert conf["fsdp_config"] == accelerate_config(cfg, CUDA_HW, Path("/r"))["fsdp_config"]
    assert conf["fsdp_config"]["fsdp_version"] == 2


def test_fsdp_lora_with_gradient_checkpointing_is_refused():
    """FSDP's activation checkpointing wraps the layers; the LoRA adapter saved from them was empty."""
    with pytest.raises(ConfigError, match="saves an empty adapter"):
        resolve_hardware(TrainConfig(device="cpu", distributed="fsdp_full", gradient_checkpointing=True))
    resolve_hardware(TrainConfig(device="cpu", distributed="fsdp_full", method="full", gradient_checkpointing=True))


def test_qlora_and_flash_attention_need_cuda():
    with pytest.raises(ConfigError, match="QLoRA .* needs CUDA"):
        resolve_hardware(TrainConfig(device="cpu", method="qlora"))
    with pytest.raises(ConfigError, match="flash_attention_2 needs CUDA"):
        resolve_hardware(TrainConfig(device="cpu", attention="flash_attention_2"))


def test_memory_estimate_fits_a_tiny_run_and_advises_on_a_huge_one(tiny_model_dir):
    small = TrainConfig(device="cpu", method="full")
    est = estimate_memory(small, resolve_hardware(small), str(tiny_model_dir))
    assert est["fits"] and est["params"] > 0 and est["trainable"] == est["params"]
    huge = TrainConfig(device="cpu", method="full", batch_size=512, max_length=65536)
    est = estimate_memory(huge, resolve_hardware(huge), str(tiny_model_dir))
    assert not est["fits"] and "does NOT fit" in est["summary"]
    assert any("method=lora" in a for a in est["advice"]) and any("gradient_checkpointing" in a for a in est["advice"])
    lora = TrainConfig(device="cpu")
    assert 0 < estimate_memory(lora, resolve_hardware(lora), str(tiny_model_dir))["trainable"] < est["params"]


def test_runs_on_the_same_devices_queue(store):
    a = store.create_run("a", {}, status="queued", devices="cuda:0,1")
    b = store.create_run("b", {}, status="queued", devices="cuda:1")
    c = store.create_run("c", {}, status="queued", devices="cuda:2")
    assert store.claim_devices(a["id"], "cuda:0,1") is None
    assert store.claim_devices(b["id"], "cuda:1") == a["id"]   # overlaps GPU 1: waits
    assert store.claim_devices(c["id"], "cuda:2") is None       # disjoint: runs at once
    store.set_run_status(a["id"], "done")
    assert store.claim_devices(b["id"], "cuda:1") is None


def cli(home, *args, env=None):
    return subprocess.run([sys.executable, "-m", "pipeline", "train", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=dict(os.environ, STUDIO_HOME=str(home), **(env or {})))


def test_cli_preview_shows_command_files_and_estimate(store, studio_home, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    freeze_dataset(store)
    out = cli(studio_home, "preview", "--base-model", "tiny", "--dataset", "toy", "--device", "cpu",
              "--distributed", "ddp", "--max-length", "256")
    assert out.returncode == 0, out.stderr
    assert "-m accelerate.commands.launch --config_file" in out.stdout and "pipeline.train.entry" in out.stdout
    assert "distributed_type: MULTI_GPU" in out.stdout and "memory:" in out.stdout and "fits" in out.stdout
    assert "24 of 24 pairs" in out.stdout and store.list_runs() == []  # a preview starts nothing
    assert "time: about" in out.stdout and "steps on this machine" in out.stdout   # the cost model's figure


def test_the_preview_says_how_long_from_the_cost_model(store, tiny_model_dir):
    from pipeline.jobs import costs
    from pipeline.train.job import plan_run
    from tests.train_helpers import freeze_dataset, register_tiny

    freeze_dataset(store)
    register_tiny(store, tiny_model_dir)
    plan = plan_run(store, TrainConfig(base_model="tiny", dataset="toy", device="cpu", max_steps=40,
                                       batch_size=2, max_length=256))
    want = costs.estimate(store, "train", 40, {"batch_size": 2, "max_length": 256}).seconds
    assert plan["duration"]["steps"] == 40 and plan["duration"]["seconds"] == round(want)
    huge = plan_run(store, TrainConfig(base_model="tiny", dataset="toy", device="cpu", max_steps=900_000))
    assert "longer than a week" in huge["duration"]["summary"]


def test_cli_errors_are_one_line(store, studio_home, tiny_model_dir):
    freeze_dataset(store)
    out = cli(studio_home, "preview", "--base-model", "nope", "--dataset", "toy")
    assert out.returncode == 2 and out.stderr.startswith("error: base model 'nope'") and "Traceback" not in out.stderr
    out = cli(studio_home, "preview", "--dataset", "missing", "--base-model", str(tiny_model_dir))
    assert out.returncode == 2 and "no dataset 'missing'" in out.stderr
    out = cli(studio_home, "start", "--method", "lora", "--lora-dropout", "2")
    assert out.returncode == 2 and "lora_dropout" in out.stderr


def test_push_offline_fails_with_a_clear_message(store, studio_home, tiny_model_dir):
    register_tiny(store, tiny_model_dir)
    out = cli(studio_home, "push", "tiny", "me/tiny", env={"HF_TOKEN": "hf_test", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 2 and "HF_HUB_OFFLINE" in out.stderr and "hf_test" not in out.stderr
    out = cli(studio_home, "push", "tiny", "me/tiny", env={"HF_TOKEN": "hf_test", "HF_HUB_OFFLINE": "0",
                                                          "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert out.returncode == 2 and "error:" in out.stderr and "Traceback" not in out.stderr
    assert "hf_test" not in out.stderr
