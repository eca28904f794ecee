"""Sharded training on CPU processes: FSDP2 over gloo, and DeepSpeed ZeRO with its CPU accelerator.
Called by pipeline.train.entry in every rank, before the trainer builds its `Accelerator`.

FSDP (`distributed=fsdp_*`, `device=cpu`). torch's FSDP2 (`fully_shard`) shards parameters into
DTensors over a gloo process group on CPU, but accelerate 1.15 never turns it on there:
`AcceleratorState.__init__` (accelerate/state.py) sets `distributed_type = FSDP` only inside
`elif self.distributed_type in [MULTI_GPU, MULTI_MLU, …, MULTI_NEURON]:`, a list without
MULTI_CPU, and CPU ranks are MULTI_CPU (`_prepare_backend`), so the plugin `accelerate launch`
built from accelerate.yaml is silently dropped and the trainer wraps the model in plain DDP.
`enable_fsdp_on_cpu_ranks()` initialises accelerate's shared state as MULTI_CPU (gloo), then does
what that branch would have done — distributed type FSDP, the plugin from the launch config (its
FSDP_* variables), its mixed precision — and the trainer keeps that state
(`accelerator_config={"use_configured_state": True}`), so everything downstream
(`fsdp2_prepare_model`, FULL_STATE_DICT saving, gradient clipping) is accelerate's own FSDP2 path.
`shard_report(model)` is the per-rank evidence: how many parameters are DTensors and the local
shard's size against the full size.

DeepSpeed (`distributed=zero2|zero3`, `device=cpu`). DeepSpeed's CPU accelerator talks gloo when
oneCCL is not installed, and ZeRO uses the trainer's torch AdamW (the generated deepspeed.json has
no optimizer section; offload is refused on CPU, it would JIT-build DeepSpeedCPUAdam). What used
to stall is `deepspeed.comm.torch.TorchBackend.__init__` → `build_shm_op()`: it JIT-compiles the
shared-memory all-reduce op (`deepspeed_shm_comm`, ~3 minutes on 2 busy cores) under a lock file
in ~/.cache/torch_extensions/…/deepspeed_shm_comm/lock, and a build that was killed leaves that
lock behind, so every later start waits forever in torch/utils/file_baton.py `FileBaton.wait`.
That op only serves `inference_all_reduce` (tensor-parallel inference), never ZeRO training, so
`skip_deepspeed_shm_build()` marks it unavailable in `deepspeed.ops.__compatible_ops__` (the
dict DeepSpeed caches for exactly such edits) and nothing is compiled. The trainer must not be
told `use_cpu` here: accelerate picks DEEPSPEED only `if ACCELERATE_USE_DEEPSPEED … and not cpu`.
"""
from __future__ import annotations


def cpu_fsdp(cfg, hw: dict) -> bool:
    return hw["device"] == "cpu" and cfg.distributed.startswith("fsdp")


def cpu_deepspeed(cfg, hw: dict) -> bool:
    return hw["device"] == "cpu" and cfg.distributed in ("zero2", "zero3")


def enable_fsdp_on_cpu_ranks() -> None:
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin, TorchDynamoPlugin

    plugin = FullyShardedDataParallelPlugin()  # FSDP_* from accelerate.yaml, set by accelerate launch
    if plugin.fsdp_version != 2:
        raise ValueError("FSDP on CPU is FSDP2 (fully_shard); FSDP1 syncs module states on an accelerator")
    # What Accelerator(cpu=True) passes; mixed precision comes from the launcher's environment.
    state = AcceleratorState(cpu=True, dynamo_plugin=TorchDynamoPlugin(), fsdp_plugin=plugin,
                             _from_accelerator=True)
    if state.distributed_type == DistributedType.FSDP:
        return  # a later accelerate that supports it itself
    if state.distributed_type != DistributedType.MULTI_CPU:
        raise RuntimeError(f"expected CPU ranks (MULTI_CPU) for FSDP on CPU, got {state.distributed_type}")
    state.distributed_type = DistributedType.FSDP
    PartialState._shared_state["distributed_type"] = DistributedType.FSDP
    if state.mixed_precision != "no":
        plugin.set_mixed_precision(state.mixed_precision)
    state.fsdp_plugin = plugin


def skip_deepspeed_shm_build() -> None:
    import deepspeed.ops

    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False


def shard_report(model) -> str:
    """'N of M parameter tensors are DTensors; local X of Y elements' for this rank."""
    from torch.distributed.tensor import DTensor

    params = list(model.parameters())
    sharded = [p for p in params if isinstance(p, DTensor)]
    local = sum((p.to_local() if isinstance(p, DTensor) else p).numel() for p in params)
    full = sum(p.numel() for p in params)
    return (f"{len(sharded)} of {len(params)} parameter tensors are DTensors; "
            f"local {local} of {full} elements ({local / max(full, 1):.1%})")


def zero_report(optimizer, stage: int) -> str:
    """'ZeRO stage S: DeepSpeedZeroOptimizer over AdamW; local fp32 partition X elements'."""
    inner = getattr(optimizer, "optimizer", optimizer)  # accelerate's wrapper → DeepSpeed's
    parts = (getattr(inner, "single_partition_of_fp32_groups", None)  # ZeRO-1/2
             or getattr(inner, "fp32_partitioned_groups_flat", None) or [])  # ZeRO-3
    torch_opt = getattr(inner, "optimizer", None)
    return (f"ZeRO stage {stage}: {type(inner).__name__} over {type(torch_opt).__name__}; "
            f"local fp32 partition {sum(p.numel() for p in parts)} elements")


def shard_report_callback(zero_stage: int | None = None):
    """Prints, per rank once the trainer has wrapped the model, what is sharded and how much of it
    this rank holds: FSDP's DTensor shards, or (zero_stage given) DeepSpeed's optimizer partition."""
    from transformers import TrainerCallback

    class ShardReport(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
            if zero_stage is not None:
                print(f"rank {args.process_index} {zero_report(optimizer, zero_stage)}", flush=True)
            else:
                print(f"rank {args.process_index} FSDP shards: {shard_report(model)}", flush=True)

    return ShardReport()
