"""Train: fine-tune a registered model on a frozen dataset, from one CPU to many GPUs and nodes.

    python -m pipeline train preview --base-model SmolLM2-135M-Instruct --dataset gd@1 --method lora
    python -m pipeline train start --run-name gd-lora --base-model … --dataset gd@1 --wait
    python -m pipeline train stop|resume|runs|show|diff|merge|push …

`config` holds `TrainConfig` (one dataclass: CLI flags, saved config, UI form) and its checks;
`data` turns a frozen dataset into prompt/completion rows with the shared prompt templates;
`launch` writes the accelerate config (CPU, DDP, DeepSpeed ZeRO-2/3, FSDP, multi-node), builds
the exact command and estimates memory; `job` runs it as a job (queue per device set, Stop,
resume, failures with their reason); `entry` is what `accelerate launch` runs (TRL SFTTrainer);
`callbacks` writes metrics to the store and registers every checkpoint as a model the moment it
is saved; `outputs` merges adapters, pushes to the hub, diffs configs and prices runs.
"""
from pipeline.errors import StudioError

JOB_KINDS = {"train": "pipeline.train.job:train_job"}
MARKER = "codetune.json"  # beside every checkpoint's weights: what made it (run, dataset, template, config)


class TrainError(StudioError):
    """A training run cannot start or did not finish; the message says why and what to change."""
