"""TrainConfig: the one dataclass that describes a fine-tune (CLI flags, saved run config, UI form).

It is a small, studio-shaped subset of TRL's SFTConfig plus the launch settings; `sft_kwargs`
maps it onto SFTConfig inside the training process. `validate()` is the single place settings
are checked, for the CLI and the UI alike; hardware-dependent choices (precision, attention,
QLoRA) are resolved by `pipeline.train.launch.resolve_hardware`, which also explains refusals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import JobConfig
from pipeline.errors import ConfigError

METHODS = ("full", "lora", "qlora")
SCHEDULES = ("linear", "cosine", "constant", "constant_with_warmup")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
ATTENTIONS = ("auto", "sdpa", "sdpa_varlen", "flash_attention_2", "eager")
DISTRIBUTED = ("single", "ddp", "zero2", "zero3", "fsdp_full", "fsdp_grad_op")
DEVICES = ("auto", "cpu", "cuda")
REPORT_TO = ("none", "tensorboard", "wandb")
TEMPLATES = ("", "alpaca", "chat", "octopack")


def _f(default, help_text: str, **kw):
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help_text, **kw})
    return field(default=default, metadata={"help": help_text, **kw})


@dataclass
class TrainConfig(JobConfig):
    # -- what to train ---------------------------------------------------------------------
    run_name: str = _f("", "name of the run (and prefix of its checkpoint models); empty = "
                           "dataset-method-time")
    base_model: str = _f("SmolLM2-135M-Instruct", "registered model name or a local model folder "
                                                  "to fine-tune (the embedded default works offline)")
    dataset: str = _f("", "frozen dataset to train on: name or name@version (latest version if omitted)")
    template: str = _f("", "prompt template: alpaca, chat (the tokenizer's chat template) or "
                           "octopack; empty = the template frozen with the dataset", choices=TEMPLATES)
    init_from_run: str = _f("", "incremental training: start from this earlier run's last checkpoint "
                                "(its adapter or weights) instead of the base model")
    method: str = _f("lora", "full (all weights), lora (adapter) or qlora (4-bit base + adapter, "
                             "CUDA + bitsandbytes only)", choices=METHODS)
    lora_r: int = _f(16, "LoRA rank")
    lora_alpha: int = _f(32, "LoRA alpha (scale = alpha / r)")
    lora_dropout: float = _f(0.05, "dropout on the LoRA path")
    # _f gives a list default its own default_factory
    lora_target_modules: list[str] = _f(["all-linear"], "module names LoRA adapts (all-linear = "  # noqa: RUF009
                                                        "every linear layer but the output head)")
    # -- how long and how fast -------------------------------------------------------------
    num_epochs: float = _f(3.0, "passes over the training split (ignored when max_steps > 0)", min=0, max=1000)
    max_steps: int = _f(0, "stop after this many optimizer steps (0 = use num_epochs)", min=0, max=1_000_000)
    learning_rate: float = _f(2e-4, "peak learning rate (2e-4 suits LoRA; ~2e-5 for full)")
    lr_scheduler: str = _f("cosine", "schedule after warmup: linear, cosine, constant, "
                                     "constant_with_warmup", choices=SCHEDULES)
    warmup_ratio: float = _f(0.03, "share of the steps spent warming the learning rate up")
    batch_size: int = _f(4, "sequences (or packed rows) per device per step", min=1, max=4096)
    grad_accum: int = _f(1, "micro-batches accumulated per optimizer step", min=1, max=4096)
    max_length: int = _f(1024, "longest training sequence in tokens; longer pairs are left out "
                               "(never cut mid-code) and counted")
    completion_only_loss: bool = _f(True, "loss on the response only: no prompt token carries a label")
    packing: bool = _f(True, "padding-free packing (best-fit decreasing) of several pairs per row")
    eval_fraction: float = _f(0.0, "share of the dataset held out for eval loss (0 = no eval split)")
    eval_steps: int = _f(50, "evaluate every N steps (with an eval split)")
    early_stopping_patience: int = _f(0, "stop after N evals without a better eval loss (0 = off)")
    gradient_checkpointing: bool = _f(False, "recompute activations in backward: less memory, ~30% slower")
    precision: str = _f("auto", "auto (bf16 on GPUs that have it, fp16 on older GPUs, fp32 on CPU), "
                                "bf16, fp16 or fp32", choices=PRECISIONS)
    attention: str = _f("auto", "auto (flash_attention_2 when installed on CUDA; otherwise "
                                "sdpa_varlen with packing, sdpa without), sdpa, sdpa_varlen (sdpa per "
                                "packed pair), flash_attention_2 or eager", choices=ATTENTIONS)
    seed: int = _f(42, "random seed (split, init of adapters, data order)")
    neftune_noise_alpha: float = _f(0.0, "NEFTune embedding noise (5 is typical; 0 = off)")
    report_to: str = _f("none", "extra experiment tracker: none, tensorboard or wandb", choices=REPORT_TO)
    logging_steps: int = _f(5, "write loss/lr/grad norm/tokens per second at step 1, then every N steps")
    save_steps: int = _f(50, "save (and register) a checkpoint every N steps; one is always saved at the end")
    save_total_limit: int = _f(3, "keep at most this many checkpoints on disk (0 = keep all)")
    # -- where it runs ---------------------------------------------------------------------
    device: str = _f("auto", "auto (CUDA when present), cpu or cuda", choices=DEVICES)
    gpus: str = _f("", "GPU ids to use, e.g. 0,1 (empty = all visible GPUs)")
    distributed: str = _f("single", "single process, ddp, zero2 / zero3 (DeepSpeed), fsdp_full "
                                    "(FULL_SHARD) or fsdp_grad_op (SHARD_GRAD_OP, the PCIe choice)", choices=DISTRIBUTED)
    offload: bool = _f(False, "DeepSpeed/FSDP: keep optimizer states (ZeRO-3/FSDP: also weights) "
                              "in CPU memory")
    num_processes: int = _f(0, "processes per machine (0 = one per chosen GPU, 1 on CPU)")
    num_machines: int = _f(1, "machines taking part; run the same command on each")
    machine_rank: int = _f(0, "this machine's rank (0 on the main machine)")
    main_address: str = _f("", "address of the rank-0 machine (multi-node)")
    main_port: int = _f(29500, "rendezvous port on the rank-0 machine")
    price_per_gpu_hour: float = _f(0.0, "$ per device-hour, for the run's cost line (0 = not priced)")

    def __post_init__(self):
        self.validate()  # a TrainConfig that exists is a valid one (CLI, UI, saved runs)

    def check(self) -> None:
        checks = [
            (bool(self.base_model.strip()), "choose a base model"),
            (self.lora_r >= 1 and self.lora_alpha >= 1, "lora_r and lora_alpha must be at least 1"),
            (0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
            (self.method == "full" or bool(self.lora_target_modules), "LoRA needs target modules"),
            (self.num_epochs > 0 or self.max_steps > 0, "set num_epochs > 0 or max_steps > 0"),
            (self.max_steps >= 0, "max_steps must be >= 0"),
            (0 < self.learning_rate < 1, "learning_rate must be in (0, 1)"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.batch_size >= 1 and self.grad_accum >= 1, "batch_size and grad_accum must be >= 1"),
            (16 <= self.max_length <= 1_048_576, "max_length must be 16..1048576 tokens"),
            (0 <= self.eval_fraction < 0.9, "eval_fraction must be in [0, 0.9)"),
            (self.eval_steps >= 1, "eval_steps must be >= 1"),
            (self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0"),
            (self.early_stopping_patience == 0 or self.eval_fraction > 0,
             "early stopping needs an eval split: set eval_fraction > 0"),
            (self.neftune_noise_alpha >= 0, "neftune_noise_alpha must be >= 0"),
            (self.logging_steps >= 1 and self.save_steps >= 1, "logging_steps and save_steps must be >= 1"),
            (self.save_total_limit >= 0, "save_total_limit must be >= 0"),
            (self.num_processes >= 0, "num_processes must be >= 0"),
            (self.num_machines >= 1, "num_machines must be >= 1"),
            (0 <= self.machine_rank < self.num_machines, "machine_rank must be in [0, num_machines)"),
            (self.num_machines == 1 or bool(self.main_address.strip()),
             "multi-node needs main_address (the rank-0 machine's address)"),
            (self.num_machines == 1 or self.distributed != "single",
             "several machines need a distributed mode (ddp, zero2/3 or fsdp_*)"),
            (1 <= self.main_port <= 65535, "main_port must be 1..65535"),
            (self.price_per_gpu_hour >= 0, "price_per_gpu_hour must be >= 0"),
            (all(g.strip().isdigit() for g in self.gpus.split(",") if g.strip()),
             "gpus must be comma-separated GPU ids, e.g. 0,1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.method == "qlora" and self.distributed in ("zero3", "fsdp_full", "fsdp_grad_op"):
            raise ConfigError("QLoRA here runs single-device or DDP/ZeRO-2; choose ddp or zero2")


def config_diff(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """(setting, value in a, value in b) for every setting that differs."""
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
