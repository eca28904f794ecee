"""Trainer callbacks run inside the training processes.

`StoreCallback` (rank 0 writes, every rank obeys): per logging step it writes loss, eval loss,
learning rate, grad norm, non-padding tokens/s and memory to `run_metrics`; on every save it
writes `codetune.json` beside the weights and registers the checkpoint as a model at once (chat
and evals see it immediately); it turns the store's stop request into "save a checkpoint and
end", broadcast from rank 0 so every rank stops at the same step (a rank that stopped alone
would hang the others in their next collective).
"""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from transformers import TrainerCallback

from pipeline.store import NotFoundError
from pipeline.train import MARKER


def checkpoint_name(run_name: str, step: int) -> str:
    return f"{run_name}-step{step}"


def write_marker(folder: Path, spec: dict, step: int) -> dict:
    """The small JSON a checkpoint carries so lists and chat never need to load weights."""
    cfg = spec["config"]
    marker = {"run_id": spec["run_id"], "run_name": spec["run_name"], "step": step,
              "dataset": spec["dataset"], "dataset_version": spec["dataset_version"],
              "template": spec["template"], "base_model": spec["base_model"],
              "method": cfg["method"], "config": cfg}
    (folder / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True))
    return marker


def register_checkpoint(store, spec: dict, folder: Path, step: int) -> dict:
    marker = write_marker(folder, spec, step)
    adapter = (folder / "adapter_config.json").exists()
    model = store.register_model(
        checkpoint_name(spec["run_name"], step), "local", str(folder),
        base=spec["base_path"] if adapter else None, template=spec["template"],
        run_id=spec["run_id"], meta=marker, replace=True)
    # save_total_limit deletes old folders: their models would point at nothing.
    for old in store.run_checkpoints(spec["run_id"]):
        if old["path"] and not Path(old["path"]).exists():
            with contextlib.suppress(NotFoundError):   # a resumed run may have removed it already
                store.delete_model(old["name"])
    return model


class StoreCallback(TrainerCallback):
    def __init__(self, store, spec: dict, is_main: bool):
        self.store, self.spec, self.is_main = store, spec, is_main
        self.run_id = spec["run_id"]
        self._t = time.monotonic()
        self._tokens = None
        self._last_step_time = time.monotonic()
        self.stopped_by_request = False

    def _memory_mb(self) -> float:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2 ** 20
        import psutil

        return psutil.Process().memory_info().rss / 2 ** 20

    def on_train_begin(self, args, state, control, **kwargs):
        self._t = self._last_step_time = time.monotonic()
        self._tokens = state.num_input_tokens_seen
        if self.is_main:
            self.store.record_run_progress(self.run_id, state.global_step, state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        stop = False
        if self.is_main:
            self.store.record_run_progress(self.run_id, state.global_step, state.max_steps,
                                           add_seconds=now - self._last_step_time)
            stop = self.store.run_stop_requested(self.run_id)
        self._last_step_time = now
        stop = _agree(stop, args)
        if stop:
            self.stopped_by_request = True
            control.should_save = True
            control.should_training_stop = True
        elif state.global_step >= state.max_steps:
            control.should_save = True  # the last step is always a checkpoint
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not self.is_main or not logs:
            return
        now = time.monotonic()
        tps = None
        if self._tokens is not None and now > self._t and "loss" in logs:
            tps = (state.num_input_tokens_seen - self._tokens) / (now - self._t)
            self._tokens, self._t = state.num_input_tokens_seen, now
        values = {"epoch": logs.get("epoch"), "loss": logs.get("loss"), "eval_loss": logs.get("eval_loss"),
                  "learning_rate": logs.get("learning_rate"), "grad_norm": logs.get("grad_norm"),
                  "tokens_per_s": tps, "memory_mb": self._memory_mb()}
        if any(values[k] is not None for k in ("loss", "eval_loss")):
            self.store.log_run_metrics(self.run_id, state.global_step, values)
            print(f"step {state.global_step}/{state.max_steps} "
                  + " ".join(f"{k}={v:.4g}" for k, v in values.items() if v is not None), flush=True)

    def on_save(self, args, state, control, **kwargs):
        if not self.is_main:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            model = register_checkpoint(self.store, self.spec, folder, state.global_step)
            print(f"checkpoint {folder} registered as model {model['name']!r}", flush=True)


def _agree(flag: bool, args) -> bool:
    """Rank 0's decision, the same on every rank."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    import torch

    t = torch.tensor([1 if flag else 0], device=args.device)
    dist.broadcast(t, src=0)
    return bool(t.item())
