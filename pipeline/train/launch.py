"""How a run is launched: hardware choices, the accelerate (and DeepSpeed) config files, the exact
command, and a memory estimate with advice — all shown before anything starts.

    hw = resolve_hardware(cfg)                 # cpu/cuda, GPU ids, processes, precision, attention
    files = launch_files(cfg, hw, run_dir)     # {"accelerate.yaml": text, "deepspeed.json": text}
    cmd = launch_command(run_dir)              # [python, -m, accelerate.commands.launch, …]
    est = estimate_memory(cfg, hw, base_path)  # bytes per device, fits?, what to change

One command runs on every machine of a multi-node run; only `machine_rank` differs, and the run
folder (config files + prepared data) must be reachable at the same path there (shared disk or a
copy). What runs on CPU (each a slow test in tests/train/test_train_distributed.py):
- ddp: torchrun starts the processes, they talk over gloo (`use_cpu` in the trainer makes
  accelerate pick MULTI_CPU).
- fsdp_full / fsdp_grad_op: gloo processes (two by default), the same FSDP2 accelerate.yaml as
  on GPUs. accelerate 1.15 drops the FSDP plugin for MULTI_CPU ranks (state.py,
  AcceleratorState.__init__: FSDP is set only in `elif self.distributed_type in [MULTI_GPU, …]`),
  so entry.py turns it on itself (pipeline/train/cpu_sharding.py); each rank logs its shard.
- zero2 / zero3: one process, DeepSpeed's CPU accelerator over gloo, ZeRO around the trainer's
  AdamW. Not several: accelerate picks DEEPSPEED only without `use_cpu`, and then finds no
  backend on a CPU-only machine and counts one process per rank (state.py, PartialState:
  "No backend == no distributed training"). Not offload: it would JIT-build DeepSpeedCPUAdam.
  The old stall was DeepSpeed JIT-building its shared-memory comm op (~3 min on 2 cores, and
  forever behind a killed build's lock file); ZeRO training never uses it, so it is skipped.
"""
from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.train.config import TrainConfig

ENTRY_MODULE = "pipeline.train.entry"
GB = 1024 ** 3


def resolve_hardware(cfg: TrainConfig) -> dict:
    """What this config means on this machine; refuses what the hardware cannot do, with why."""
    import torch

    cuda = torch.cuda.is_available()
    device = cfg.device if cfg.device != "auto" else ("cuda" if cuda else "cpu")
    if device == "cuda" and not cuda:
        raise ConfigError("device=cuda but no CUDA GPU is visible here; use device=cpu or auto")
    gpu_ids: list[int] = []
    if device == "cuda":
        visible = torch.cuda.device_count()
        gpu_ids = [int(g) for g in cfg.gpus.split(",") if g.strip()] or list(range(visible))
        bad = [g for g in gpu_ids if g >= visible]
        if bad:
            raise ConfigError(f"GPU id(s) {bad} do not exist; this machine has {visible} GPU(s) (0..{visible - 1})")
    if cfg.method == "qlora":
        if device != "cuda":
            raise ConfigError("QLoRA loads the base in 4 bits with bitsandbytes, which needs CUDA; "
                              "use method=lora on CPU")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ConfigError("QLoRA needs bitsandbytes: pip install -r requirements-gpu.txt, or use lora")
    if cfg.distributed.startswith("fsdp") and cfg.method != "full" and cfg.gradient_checkpointing:
        # FSDP checkpoints activations itself (fsdp_activation_checkpointing wraps each layer);
        # with a LoRA model the adapter saved from the wrapped layers had 0 tensors.
        raise ConfigError("FSDP with LoRA and gradient_checkpointing saves an empty adapter here "
                          "(FSDP's activation checkpointing wraps the layers); use "
                          "gradient_checkpointing=false, ddp, or method=full")
    if cfg.distributed in ("zero2", "zero3") and device != "cuda" and cfg.offload:
        raise ConfigError("offload with DeepSpeed on CPU: the states are in CPU memory already, and "
                          "DeepSpeed would JIT-build its CPU Adam for it; drop offload")
    if device == "cpu":
        one = cfg.distributed in ("single", "zero2", "zero3")
        processes = cfg.num_processes or (1 if one else 2)
        if cfg.distributed in ("zero2", "zero3") and processes > 1:
            # accelerate 1.15, state.py PartialState.__init__: without use_cpu (which DeepSpeed
            # needs) _prepare_backend finds no accelerator, the backend stays None and
            # "No backend == no distributed training" sets num_processes = 1 on every rank.
            raise ConfigError("DeepSpeed on CPU runs one process here: accelerate 1.15 counts "
                              "DeepSpeed's CPU ranks as one (no accelerator backend); use "
                              "num_processes=1, or ddp / fsdp_* for several CPU processes")
    else:
        processes = cfg.num_processes or len(gpu_ids)
    if cfg.distributed == "single" and processes > 1:
        raise ConfigError(f"{processes} processes need a distributed mode: ddp, zero2/3 or fsdp_*")
    if device == "cuda" and processes > len(gpu_ids):
        raise ConfigError(f"{processes} processes but {len(gpu_ids)} GPU(s) chosen; one process per GPU")
    bf16_ok = device == "cuda" and torch.cuda.is_bf16_supported()
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16" if bf16_ok else ("fp16" if device == "cuda" else "fp32")
    if precision == "bf16" and device == "cuda" and not bf16_ok:
        raise ConfigError("this GPU has no bf16; use precision=fp16 or auto")
    if precision == "fp16" and device == "cpu":
        raise ConfigError("fp16 training needs a GPU; use fp32 or bf16 on CPU")
    flash = device == "cuda" and importlib.util.find_spec("flash_attn") is not None
    # Packed rows need a varlen attention to cost only each pair's square: flash-attention's
    # kernels on CUDA, else sdpa per pair (pipeline.train.varlen_attention; the training process
    # falls back to sdpa for a model whose attention cannot take it, and says so).
    attention = cfg.attention if cfg.attention != "auto" else (
        "flash_attention_2" if flash else "sdpa_varlen" if cfg.packing else "sdpa")
    if attention == "flash_attention_2" and not flash:
        raise ConfigError("flash_attention_2 needs CUDA and the flash-attn package; use sdpa, sdpa_varlen or auto")
    devices = "cpu" if device == "cpu" else "cuda:" + ",".join(map(str, gpu_ids[:processes]))
    return {"device": device, "gpu_ids": gpu_ids[:processes] if device == "cuda" else [],
            "num_processes": processes, "precision": precision, "attention": attention,
            "devices": devices, "world_size": processes * cfg.num_machines}


def accelerate_config(cfg: TrainConfig, hw: dict, run_dir: Path) -> dict:
    """accelerate's own config-file schema (what `accelerate config` would write)."""
    many = hw["world_size"] > 1
    conf = {"compute_environment": "LOCAL_MACHINE", "debug": False, "downcast_bf16": "no",
            "machine_rank": cfg.machine_rank, "main_training_function": "main",
            "mixed_precision": {"fp32": "no"}.get(hw["precision"], hw["precision"]),
            "num_machines": cfg.num_machines, "num_processes": hw["world_size"],
            "rdzv_backend": "static", "same_network": True, "tpu_use_cluster": False,
            "tpu_use_sudo": False,
            # accelerate launch runs DeepSpeed only without --cpu (also for one CPU process)
            "use_cpu": (hw["device"] == "cpu" and not many
                        and cfg.distributed not in ("zero2", "zero3")),
            "gpu_ids": ",".join(map(str, hw["gpu_ids"])) if hw["gpu_ids"] else "all"}
    if many or cfg.num_machines > 1:
        conf["main_process_port"] = cfg.main_port
    if cfg.num_machines > 1:
        conf["main_process_ip"] = cfg.main_address
    if cfg.distributed in ("single",) and not many:
        conf["distributed_type"] = "NO"
    elif cfg.distributed == "ddp" or (hw["device"] == "cpu" and cfg.distributed == "single"):
        # torchrun starts the processes; on CPU the trainer's use_cpu turns them into gloo ranks.
        conf["distributed_type"] = "MULTI_GPU"
    elif cfg.distributed in ("zero2", "zero3"):
        conf["distributed_type"] = "DEEPSPEED"
        conf["deepspeed_config"] = {"deepspeed_config_file": str(run_dir / "deepspeed.json"),
                                    "zero3_init_flag": cfg.distributed == "zero3"}
        conf.pop("mixed_precision")  # the DeepSpeed file owns precision
    else:
        conf["distributed_type"] = "FSDP"
        conf["fsdp_config"] = {
            "fsdp_version": 2,
            # FULL_SHARD re-shards weights after forward; SHARD_GRAD_OP keeps them (less traffic:
            # the advice for PCIe cards without NVLink).
            "fsdp_reshard_after_forward": cfg.distributed == "fsdp_full",
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_offload_params": cfg.offload,
            "fsdp_state_dict_type": "FULL_STATE_DICT",
            "fsdp_cpu_ram_efficient_loading": True,
            "fsdp_activation_checkpointing": cfg.gradient_checkpointing,
        }
    return conf


def deepspeed_config(cfg: TrainConfig, hw: dict) -> dict:
    """A DeepSpeed JSON; 'auto' values are filled by the HF trainer from the training args."""
    stage = 3 if cfg.distributed == "zero3" else 2
    zero: dict = {"stage": stage, "overlap_comm": True, "contiguous_gradients": True,
                  "reduce_bucket_size": "auto"}
    if cfg.offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if stage == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    if stage == 3:
        zero.update({"stage3_gather_16bit_weights_on_model_save": True,
                     "stage3_prefetch_bucket_size": "auto", "stage3_param_persistence_threshold": "auto"})
    conf = {"zero_optimization": zero, "train_micro_batch_size_per_gpu": "auto",
            "train_batch_size": "auto", "gradient_accumulation_steps": "auto",
            "gradient_clipping": "auto", "steps_per_print": 1_000_000}
    conf["bf16"] = {"enabled": hw["precision"] == "bf16"}
    conf["fp16"] = {"enabled": hw["precision"] == "fp16"}
    return conf


def launch_files(cfg: TrainConfig, hw: dict, run_dir: Path) -> dict[str, str]:
    """The config files of a run as text, by file name (saved with the run, shown in the UI)."""
    import yaml

    files = {"accelerate.yaml": yaml.safe_dump(accelerate_config(cfg, hw, run_dir), sort_keys=True)}
    if cfg.distributed in ("zero2", "zero3"):
        files["deepspeed.json"] = json.dumps(deepspeed_config(cfg, hw), indent=2)
    return files


def launch_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
            str(run_dir / "accelerate.yaml"), "-m", ENTRY_MODULE, str(run_dir / "run.json")]


def command_text(cmd: list[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)


def estimate_memory(cfg: TrainConfig, hw: dict, model_path: str) -> dict:
    """Bytes per device for weights, gradients, optimizer states and activations (the usual
    formula: Adam keeps two fp32 moments; activations ≈ 34·b·s·h·L half-precision bytes with
    fused attention, ≈ 2·b·s·h·L with gradient checkpointing) against what the device has."""
    import psutil
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    mc = AutoConfig.from_pretrained(model_path)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(mc)
    params = sum(p.numel() for p in model.parameters())
    trainable = params if cfg.method == "full" else _lora_params(model, cfg)
    n = hw["world_size"]
    half = hw["precision"] in ("bf16", "fp16")
    weight_bytes = {"full": 4, "lora": 2 if half else 4, "qlora": 0.55}[cfg.method]
    weights = params * weight_bytes
    grads = trainable * 4
    optimizer = trainable * 8 + (trainable * 4 if half and cfg.method != "full" else 0)
    if cfg.distributed in ("zero2", "zero3", "fsdp_full", "fsdp_grad_op"):
        grads, optimizer = grads / n, optimizer / n
    if cfg.distributed in ("zero3", "fsdp_full"):
        weights /= n
    if cfg.offload:
        optimizer = 0.0
    hidden = getattr(mc, "hidden_size", 0) or 0
    layers = getattr(mc, "num_hidden_layers", 0) or 0
    act_unit = 2 if half else 4
    tokens = cfg.batch_size * cfg.max_length
    per_token = (2 if cfg.gradient_checkpointing else 34) * hidden * layers * act_unit / 2
    activations = tokens * per_token + tokens * mc.vocab_size * 4 * 2  # + fp32 logits and their grad
    total = (weights + grads + optimizer + activations) * 1.1 + (0.5 * GB if hw["device"] == "cuda" else 0)
    if hw["device"] == "cuda":
        available = min(torch.cuda.get_device_properties(i).total_memory for i in hw["gpu_ids"])
        where = f"GPU {torch.cuda.get_device_name(hw['gpu_ids'][0])}"
    else:
        available = psutil.virtual_memory().available / max(1, hw["num_processes"])
        where = "CPU RAM per process"
    fits = total <= available * 0.92
    est = {"params": params, "trainable": trainable, "weights": weights, "grads": grads,
           "optimizer": optimizer, "activations": activations, "total": total,
           "available": available, "where": where, "fits": fits,
           "advice": [] if fits else memory_advice(cfg, hw)}
    est["summary"] = memory_summary(est)
    return est


def _lora_params(model, cfg: TrainConfig) -> int:
    import torch

    targets = set(cfg.lora_target_modules)
    total = 0
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or name.endswith("lm_head"):
            continue
        if "all-linear" in targets or name.split(".")[-1] in targets:
            total += cfg.lora_r * (module.in_features + module.out_features)
    return total


def memory_advice(cfg: TrainConfig, hw: dict) -> list[str]:
    """What to change, most effective first."""
    tips = []
    if cfg.method == "full":
        tips.append("method=lora: trains ~1% of the weights, no full optimizer states")
    elif cfg.method == "lora" and hw["device"] == "cuda":
        tips.append("method=qlora: 4-bit base weights (CUDA + bitsandbytes)")
    if not cfg.gradient_checkpointing:
        tips.append("gradient_checkpointing: activations shrink ~15x for ~30% more compute")
    if cfg.batch_size > 1:
        tips.append(f"batch_size={max(1, cfg.batch_size // 2)} with grad_accum={cfg.grad_accum * 2}: "
                    "same effective batch, half the activations")
    if cfg.max_length > 512:
        tips.append(f"max_length={cfg.max_length // 2}: activations scale with sequence length")
    if hw["world_size"] > 1 and cfg.distributed not in ("zero3", "fsdp_full"):
        tips.append("distributed=zero3 or fsdp_full: shard weights, gradients and optimizer states")
    if not cfg.offload and cfg.distributed in ("zero2", "zero3", "fsdp_full", "fsdp_grad_op"):
        tips.append("offload: keep optimizer states in CPU memory")
    return tips


def memory_summary(est: dict) -> str:
    def g(x):
        return f"{x / GB:.2f} GB"

    line = (f"{est['params'] / 1e6:.1f}M params ({est['trainable'] / 1e6:.2f}M trainable): weights "
            f"{g(est['weights'])} + grads {g(est['grads'])} + optimizer {g(est['optimizer'])} + "
            f"activations {g(est['activations'])} ≈ {g(est['total'])} per device; "
            f"{est['where']} has {g(est['available'])} → "
            + ("fits" if est["fits"] else "does NOT fit"))
    if est["advice"]:
        line += ". Try: " + "; ".join(est["advice"])
    return line
