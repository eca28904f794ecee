"""What `accelerate launch` runs in every training process (written by pipeline.train.job):

    python -m accelerate.commands.launch --config_file RUN/accelerate.yaml \
        -m pipeline.train.entry RUN/run.json

`run.json` holds the config, the resolved hardware, the model paths and the prepared
prompt/completion files, so no rank needs the database; only global rank 0 opens the store
(metrics, checkpoints, the stop flag, the failure reason). A run folder that already has
checkpoints resumes from the last one (same step, optimizer, scheduler and data order).
Failures the person can act on — out of memory, a full disk — are written to the run as one
sentence with the config that caused them and what to change; the process exits with code 3.
"""
from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.train import varlen_attention
from pipeline.train.config import TrainConfig
from pipeline.train.cpu_sharding import cpu_deepspeed, cpu_fsdp
from pipeline.train.data import read_jsonl
from pipeline.train.varlen_attention import NAME as VARLEN

if TYPE_CHECKING:
    from transformers import TrainerCallback

FAILED_EXIT = 3


def load_model(cfg: TrainConfig, spec: dict, hw: dict):
    """(model, tokenizer, peft_config or None) for full, LoRA (new or continued) and QLoRA."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    init: str | None = spec.get("init_from")  # incremental: an earlier run's checkpoint
    init_is_adapter = bool(init and (Path(init) / "adapter_config.json").exists())
    source = init if init and not init_is_adapter else spec["base_path"]
    tokenizer = AutoTokenizer.from_pretrained(init if init and (Path(init) / "tokenizer_config.json").exists()
                                              else spec["base_path"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(hw["precision"])
    # sdpa_varlen is switched on after loading, once the model is known to take it
    kwargs: dict = {"attn_implementation": "sdpa" if hw["attention"] == VARLEN else hw["attention"],
                    # full fine-tunes keep fp32 master weights (mixed precision autocasts);
                    # a frozen LoRA base can sit in half precision.
                    "dtype": half if (half is not None and cfg.method != "full") else torch.float32}
    if cfg.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=half or torch.bfloat16)
    model: Any = AutoModelForCausalLM.from_pretrained(source, **kwargs)  # or its peft wrapper, below
    if hw["attention"] == VARLEN:
        if varlen_attention.supports(model):
            varlen_attention.use(model)
        else:
            print(f"attention: {type(model).__name__} cannot run {VARLEN} (its attention does not go "
                  "through transformers' AttentionInterface, or uses a feature it lacks); training "
                  "with sdpa, one packed row per micro-batch", flush=True)
    peft_config = None
    if cfg.method != "full":
        from peft import LoraConfig, PeftModel

        if init and init_is_adapter:
            model = PeftModel.from_pretrained(model, init, is_trainable=True)
        else:
            targets = cfg.lora_target_modules
            peft_config = LoraConfig(
                r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                target_modules="all-linear" if "all-linear" in targets else targets,
                task_type="CAUSAL_LM")
    return model, tokenizer, peft_config


def micro_batches(cfg: TrainConfig, hw: dict) -> tuple[int, int]:
    """(per-device batch, accumulation) for the same rows per optimizer step. TRL flattens a
    padding-free batch's packed rows into one long row. Varlen attention (flash_attention_2, or
    sdpa_varlen: sdpa per pair) costs the sum of each pair's square there, so packed rows batch
    like any rows; plain sdpa/eager get a block-diagonal mask over the whole flattened row and
    cost its square, so with them each packed row is its own micro-batch. `hw["attention"]` is
    the implementation the model actually runs (see `train`)."""
    if cfg.packing and hw["attention"] not in ("flash_attention_2", VARLEN):
        return 1, cfg.batch_size * cfg.grad_accum
    return cfg.batch_size, cfg.grad_accum


def sft_config(cfg: TrainConfig, spec: dict, hw: dict, has_eval: bool):
    from trl import SFTConfig

    eval_kw: dict[str, Any] = {}
    if has_eval:
        eval_kw = {"eval_strategy": "steps", "eval_steps": cfg.eval_steps,
                   "per_device_eval_batch_size": cfg.batch_size}
        if cfg.early_stopping_patience:
            eval_kw.update(load_best_model_at_end=True, metric_for_best_model="eval_loss",
                           greater_is_better=False, save_steps=cfg.eval_steps)
    batch, accum = micro_batches(cfg, hw)
    return SFTConfig(
        output_dir=spec["output_dir"], num_train_epochs=cfg.num_epochs, max_steps=cfg.max_steps or -1,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a share of the steps
        per_device_train_batch_size=batch, gradient_accumulation_steps=accum,
        max_length=cfg.max_length, completion_only_loss=cfg.completion_only_loss,
        packing=cfg.packing, packing_strategy="bfd", padding_free=cfg.packing,
        # FSDP checkpoints activations itself (fsdp_activation_checkpointing in accelerate.yaml);
        # the trainer refuses to be asked twice.
        activation_checkpointing=cfg.gradient_checkpointing and not cfg.distributed.startswith("fsdp"),
        bf16=hw["precision"] == "bf16",
        fp16=hw["precision"] == "fp16", seed=cfg.seed, data_seed=cfg.seed,
        neftune_noise_alpha=cfg.neftune_noise_alpha or None, report_to=cfg.report_to,
        # The first point at step 1, then every logging_steps: a short run's curve is never empty.
        logging_steps=cfg.logging_steps, logging_first_step=True, save_strategy="steps",
        save_steps=eval_kw.pop("save_steps", cfg.save_steps),
        # DeepSpeed on CPU: no use_cpu (accelerate picks DEEPSPEED only without it; the device is
        # still the CPU). FSDP on CPU: the trainer keeps the state enable_fsdp_on_cpu_ranks made.
        save_total_limit=cfg.save_total_limit or None,
        use_cpu=hw["device"] == "cpu" and not cpu_deepspeed(cfg, hw),
        accelerator_config={"use_configured_state": True} if cpu_fsdp(cfg, hw) else None,
        include_num_input_tokens_seen="non_padding", disable_tqdm=True, dataloader_num_workers=0,
        ddp_find_unused_parameters=False, dataset_num_proc=None, **eval_kw)


def train(spec: dict, store) -> dict:
    from datasets import Dataset
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    from pipeline.train.callbacks import StoreCallback

    cfg, hw = TrainConfig.from_dict(spec["config"]), spec["hw"]
    finished = finished_checkpoint(Path(spec["output_dir"]))
    if finished is not None:
        # Killed after its last step was saved, before the job said done: resuming would train a
        # step past max_steps (the trainer always takes one), so the run just ends where it is.
        print(f"{finished['resumed_from']} is the run's last step: nothing left to train", flush=True)
        if store is not None:
            store.record_run_progress(spec["run_id"], finished["step"], finished["step"])
        return finished
    set_seed(cfg.seed)
    _cap_memory()
    model, tokenizer, peft_config = load_model(cfg, spec, hw)
    hw = dict(hw, attention=getattr(model.config, "_attn_implementation", None) or hw["attention"])
    train_rows = read_jsonl(Path(spec["train_file"]))
    eval_rows = read_jsonl(Path(spec["eval_file"])) if spec.get("eval_file") else []
    callback = StoreCallback(store, spec, is_main=store is not None)
    callbacks: list[TrainerCallback] = [callback]
    if eval_rows and cfg.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    if cfg.distributed.startswith("fsdp"):
        from pipeline.train.cpu_sharding import enable_fsdp_on_cpu_ranks, shard_report_callback

        if cpu_fsdp(cfg, hw):
            enable_fsdp_on_cpu_ranks()  # accelerate 1.15 turns FSDP on only for accelerator ranks
        callbacks.append(shard_report_callback())
    if cfg.distributed in ("zero2", "zero3"):
        from pipeline.train.cpu_sharding import shard_report_callback, skip_deepspeed_shm_build

        if cpu_deepspeed(cfg, hw):
            skip_deepspeed_shm_build()  # its JIT build stalls the start; ZeRO training never uses it
        callbacks.append(shard_report_callback(zero_stage=int(cfg.distributed[-1])))
    trainer = SFTTrainer(model=model, args=sft_config(cfg, spec, hw, bool(eval_rows)),
                         train_dataset=Dataset.from_list(train_rows),
                         eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
                         processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
    acc = trainer.accelerator
    print(f"rank {acc.process_index}/{acc.num_processes}: {acc.distributed_type.value} on {acc.device}, "
          f"{hw['precision']}, attention {hw['attention']}", flush=True)
    last = last_complete_checkpoint(Path(spec["output_dir"]))
    if last:
        print(f"resuming from {last}", flush=True)
    output = trainer.train(resume_from_checkpoint=last)
    return {"step": trainer.state.global_step, "train_loss": output.training_loss,
            "stopped": callback.stopped_by_request, "resumed_from": last}


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint whose save finished (trainer_state.json is written last): a folder
    left half-written by a full disk or a kill must not be resumed from."""
    if not folder.is_dir():
        return None
    done = [p for p in folder.glob("checkpoint-*") if p.name[11:].isdigit() and _state_written(p)]
    return str(max(done, key=lambda p: int(p.name[11:]))) if done else None


def finished_checkpoint(folder: Path) -> dict | None:
    """The result of a run whose newest complete checkpoint is its last step (global_step has
    reached the max_steps it was saved with), else None: there is something left to train."""
    last = last_complete_checkpoint(folder)
    if last is None:
        return None
    state = json.loads((Path(last) / "trainer_state.json").read_text())
    step, total = int(state.get("global_step") or 0), int(state.get("max_steps") or 0)
    if total <= 0 or step < total:
        return None
    losses = [e for e in state.get("log_history") or [] if "train_loss" in e or "loss" in e]
    loss = (losses[-1].get("train_loss", losses[-1].get("loss")) if losses else None)
    return {"step": step, "train_loss": loss, "stopped": False, "resumed_from": last}


def _state_written(checkpoint: Path) -> bool:
    state = checkpoint / "trainer_state.json"
    try:
        return state.is_file() and state.stat().st_size > 0 and "global_step" in json.loads(state.read_text())
    except (OSError, ValueError):
        return False


def _cap_memory() -> None:
    """STUDIO_TRAIN_MEMORY_CAP_MB caps this process's extra address space (on a CPU machine
    shared with others, a run that outgrows it fails with a clear out-of-memory message
    instead of pushing the machine into swap or the OOM killer)."""
    cap = os.environ.get("STUDIO_TRAIN_MEMORY_CAP_MB")
    if not cap:
        return
    import resource

    import psutil

    limit = psutil.Process().memory_info().vms + int(cap) * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def explain_failure(exc: BaseException, cfg: dict) -> str | None:
    """One sentence for failures a person can fix, or None for a bug (keeps its traceback)."""
    text = f"{type(exc).__name__}: {exc}"
    settings = (f"method={cfg.get('method')} batch_size={cfg.get('batch_size')} "
                f"grad_accum={cfg.get('grad_accum')} max_length={cfg.get('max_length')} "
                f"gradient_checkpointing={cfg.get('gradient_checkpointing')} "
                f"distributed={cfg.get('distributed')}")
    oom = ("out of memory" in text.lower() or "can't allocate memory" in text.lower()
           or isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError")
    if oom:
        tips = ["gradient_checkpointing=true" if not cfg.get("gradient_checkpointing") else None,
                f"batch_size={max(1, cfg.get('batch_size', 1) // 2)} with grad_accum="
                f"{cfg.get('grad_accum', 1) * 2}" if cfg.get("batch_size", 1) > 1 else None,
                f"max_length={cfg.get('max_length', 1024) // 2}",
                "method=lora" if cfg.get("method") == "full" else None]
        return (f"out of memory with {settings}; try " + ", ".join(t for t in tips if t)
                + f" ({text.splitlines()[0][:200]})")
    chain = [exc, exc.__cause__, exc.__context__]
    if any(isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) for e in chain if e) \
            or "no space left on device" in text.lower():
        return ("disk full while saving a checkpoint; free space in the run folder's disk or lower "
                f"save_total_limit, then resume the run ({text.splitlines()[0][:200]})")
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    store = None
    if int(os.environ.get("RANK", "0")) == 0:
        from pipeline.store import open_store

        store = open_store(spec["db"])
    try:
        result = train(spec, store)
    except BaseException as exc:
        reason = explain_failure(exc, spec["config"])
        if reason is None:
            raise
        if store is not None:
            store.update_run(spec["run_id"], error=reason)
        print(f"error: {reason}", file=sys.stderr, flush=True)
        return FAILED_EXIT
    if store is not None:
        store.update_run(spec["run_id"], result=result)
    print(f"training finished: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
