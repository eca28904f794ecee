"""FSDP2 on CPU processes (gloo), for `distributed=fsdp_*` with `device=cpu`.

torch's FSDP2 (`fully_shard`) shards parameters into DTensors over a gloo process group on CPU;
accelerate 1.15 never turns it on there. `AcceleratorState.__init__` (accelerate/state.py) sets
`distributed_type = FSDP` only inside `elif self.distributed_type in [MULTI_GPU, MULTI_MLU, …,
MULTI_NEURON]:`, a list without MULTI_CPU, and CPU ranks are MULTI_CPU (`_prepare_backend`), so
the plugin that `accelerate launch` built from accelerate.yaml is silently dropped and the
trainer wraps the model in plain DDP.

`enable_fsdp_on_cpu_ranks()` runs in every rank before the trainer builds its `Accelerator`: it
initialises accelerate's shared state as MULTI_CPU (gloo), then does what that branch would have
done — distributed type FSDP, the plugin from the launch config (its FSDP_* variables), its mixed
precision. The trainer's `Accelerator` reuses that shared state, so everything downstream
(`fsdp2_prepare_model`, FULL_STATE_DICT saving, gradient clipping) is accelerate's own FSDP2 path.
`shard_report(model)` is the per-rank evidence: how many parameters are DTensors and the local
shard's size against the full size.
"""
from __future__ import annotations


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


def shard_report(model) -> str:
    """'N of M parameter tensors are DTensors; local X of Y elements' for this rank."""
    from torch.distributed.tensor import DTensor

    params = list(model.parameters())
    sharded = [p for p in params if isinstance(p, DTensor)]
    local = sum((p.to_local() if isinstance(p, DTensor) else p).numel() for p in params)
    full = sum(p.numel() for p in params)
    return (f"{len(sharded)} of {len(params)} parameter tensors are DTensors; "
            f"local {local} of {full} elements ({local / max(full, 1):.1%})")


def shard_report_callback():
    """Prints `shard_report` per rank once the trainer has wrapped the model."""
    from transformers import TrainerCallback

    class ShardReport(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            print(f"rank {args.process_index} FSDP shards: {shard_report(model)}", flush=True)

    return ShardReport()
