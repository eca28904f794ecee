"""Training runs as jobs: plan (nothing written), start, the job body, stop, resume.

    plan = plan_run(store, cfg)        # data stats, the command, config files, memory estimate
    run = start_run(store, cfg)        # run row + files in $STUDIO_HOME/runs/NAME + a `train` job
    stop_run(store, run_id)            # save a checkpoint at the next step and end cleanly
    resume_run(store, run_id)          # a new job that continues from the last checkpoint

The job's child first claims its run (a compare-and-set in the store: one job trains a run at a
time, whichever tab resumed it), then its device set (two runs on the same GPUs wait in turn, never collide),
then runs the `accelerate launch` command saved with the run and mirrors the run's step into the
job's progress. Cancel (from the Jobs tab) kills the whole process group: the run is left
`cancelled` and resumes from its last checkpoint; a killed app or job leaves it `interrupted`
(see `reconcile_runs`). A failure reason written by the training process (out of memory, disk
full) becomes the run's and the job's error.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.paths import named_path, studio_home
from pipeline.store import NotFoundError
from pipeline.train import TrainError, launch
from pipeline.train import data as train_data
from pipeline.train.config import TrainConfig

QUEUE_POLL_S = 2.0
ROOT = Path(__file__).resolve().parents[2]


def runs_dir() -> Path:
    return studio_home() / "runs"


def resolve_base(store, name: str) -> tuple[str, str]:
    """(display name, local path or hub id) of the model to fine-tune."""
    try:
        model = store.get_model(name)
    except NotFoundError:
        if Path(name).is_dir():
            from pipeline.paths import server_path

            folder = server_path(name, "base model folder")   # the gate: whose folders may be read
            return folder.name, str(folder)
        known = ", ".join(m["name"] for m in store.list_models() if m["kind"] in ("local", "hf")) or "none"
        raise TrainError(f"base model {name!r} is neither a registered model nor a folder here; "
                         f"registered local models: {known}") from None
    if model["kind"] not in ("local", "hf"):
        raise TrainError(f"model {name!r} is a {model['kind']} model; fine-tuning needs a local "
                         "folder or a hub id (GGUF: prepare it as a folder first)")
    from pipeline.models import checked_spec

    path = checked_spec(model, naming=False)["path"] or ""   # a folder through the one validator
    if (Path(path) / "adapter_config.json").exists():
        raise TrainError(f"model {name!r} is a LoRA adapter; merge it first (`train merge`) or "
                         "continue it with init_from_run")
    if model["kind"] == "local" and not Path(path).is_dir():
        raise TrainError(f"base model {name!r} points at {path}, which does not exist any more")
    return model["name"], path


def last_checkpoint(store, run_ref: str) -> str:
    run = store.get_run(run_ref)
    ckpts = [c for c in store.run_checkpoints(run["id"]) if c["path"] and Path(c["path"]).is_dir()]
    if not ckpts:
        raise TrainError(f"run {run['name']!r} has no checkpoint on disk to start from")
    return max(ckpts, key=lambda c: c["meta"].get("step", 0))["path"]


def plan_run(store, cfg: TrainConfig) -> dict:
    """Everything a run would do, computed without writing anything (the UI preview)."""
    from transformers import AutoTokenizer

    cfg.validate()
    if not cfg.dataset.strip():
        raise ConfigError("choose a frozen dataset (name or name@version)")
    base_name, base_path = resolve_base(store, cfg.base_model)
    dataset = store.get_dataset(cfg.dataset.strip())
    template = cfg.template or dataset.get("template") or "alpaca"
    init_from = last_checkpoint(store, cfg.init_from_run) if cfg.init_from_run.strip() else None
    if init_from and not (Path(init_from) / "adapter_config.json").exists():
        base_path, init_from = init_from, None  # earlier full weights become the base
    elif init_from and cfg.method == "full":
        raise ConfigError("init_from_run points at a LoRA adapter; use method=lora to continue it "
                          "(or merge it and fine-tune the merged model fully)")
    hw = launch.resolve_hardware(cfg)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    examples = train_data.dataset_examples(store, dataset["id"])
    rows, stats = train_data.build_rows(examples, template, tokenizer, cfg.max_length)
    train_rows, eval_rows = train_data.split_rows(rows, cfg.eval_fraction, cfg.seed)
    stats.update(train=len(train_rows), eval=len(eval_rows))
    name = cfg.run_name.strip() or f"{dataset['name']}-{cfg.method}-{time.strftime('%m%d-%H%M%S')}"
    run_dir = named_path("runs", _safe(name).replace("@", "_"))   # the one validator: stays in runs/
    try:
        estimate = launch.estimate_memory(cfg, hw, base_path)
    except (OSError, ValueError) as exc:  # an unusual config.json must not block the run
        estimate = {"summary": f"no memory estimate: {exc}", "fits": None}
    cmd = launch.launch_command(run_dir)
    duration = planned_duration(store, cfg, hw, stats, train_rows)
    return {"name": name, "duration": duration, "config": dict(cfg.to_dict(), run_name=name), "hw": hw,
            "base_model": base_name, "base_path": base_path, "init_from": init_from,
            "dataset": dataset, "template": template, "stats": stats, "run_dir": str(run_dir),
            "files": launch.launch_files(cfg, hw, run_dir), "command": cmd,
            "command_text": launch.command_text(cmd), "estimate": estimate,
            "train_rows": train_rows, "eval_rows": eval_rows}


def planned_duration(store, cfg: TrainConfig, hw: dict, stats: dict, train_rows: list) -> dict:
    """Optimizer steps the run will take and how long, from the studio's one cost model."""
    import math

    from pipeline.jobs import costs

    per_step_rows = cfg.batch_size * cfg.grad_accum * max(1, hw.get("world_size") or 1)
    if cfg.max_steps:
        steps = cfg.max_steps
    else:
        share = len(train_rows) / max(1, stats.get("used") or len(train_rows))
        rows = math.ceil(stats.get("tokens", 0) * share / cfg.max_length) if cfg.packing else len(train_rows)
        steps = max(1, math.ceil(cfg.num_epochs * max(1, rows) / per_step_rows))
    est = costs.estimate(store, "train", steps, {"batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                                                 "max_length": cfg.max_length})
    summary = f"about {est.text} for {steps} steps on this machine ({est.source})"
    if est.seconds > costs.MAX_PLAUSIBLE_S:
        summary += " — longer than a week here: check max_steps and num_epochs"
    return {"steps": steps, "seconds": round(est.seconds), "summary": summary}


def plan_text(plan: dict) -> str:
    """The preview a person reads before starting: data, hardware, memory, command, files."""
    s = plan["stats"]
    lines = [f"run {plan['name']}: {plan['base_model']} on {plan['dataset']['name']}@"
             f"{plan['dataset']['version']} with the {plan['template']} template",
             f"data: {s['used']} of {s['pairs']} pairs ({s['too_long']} longer than max_length left out), "
             f"{s['train']} train / {s['eval']} eval, {s['tokens']} tokens, longest {s['longest']}"
             + (f"; {s['conversations']} conversations (loss on every assistant turn)" if s.get("conversations")
                else ""),
             f"hardware: {plan['hw']['devices']} × {plan['hw']['num_processes']} process(es) per machine, "
             f"{plan['hw']['precision']}, attention {plan['hw']['attention']}",
             f"memory: {plan['estimate']['summary']}",
             f"time: {plan['duration']['summary']}", "", "$ " + plan["command_text"]]
    for fname, text in plan["files"].items():
        lines += ["", f"--- {plan['run_dir']}/{fname}", text.rstrip()]
    return "\n".join(lines)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name)[:120]


def start_run(store, cfg: TrainConfig, *, spawn: bool = True) -> dict:
    """Write the run's files and row, then queue its job; returns the run."""
    from pipeline import jobs

    plan = plan_run(store, cfg)
    run_dir = Path(plan["run_dir"])
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(f"{run_dir} already holds a run; pick another run_name")
    run = store.create_run(
        plan["name"], plan["config"], status="queued", dataset_id=plan["dataset"]["id"],
        dataset=plan["dataset"]["name"], dataset_version=plan["dataset"]["version"],
        base_model=plan["base_model"], base_path=plan["base_path"], method=cfg.method,
        template=plan["template"], output_dir=str(run_dir / "checkpoints"),
        devices=plan["hw"]["devices"], command=plan["command_text"], launch_files=plan["files"],
        estimate={k: v for k, v in plan["estimate"].items()}, num_devices=plan["hw"]["world_size"],
        parent_run_id=store.get_run(cfg.init_from_run)["id"] if cfg.init_from_run.strip() else None)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        for fname, text in plan["files"].items():
            (run_dir / fname).write_text(text)
        train_data.write_jsonl(run_dir / "train.jsonl", plan["train_rows"])
        if plan["eval_rows"]:
            train_data.write_jsonl(run_dir / "eval.jsonl", plan["eval_rows"])
        spec = {"run_id": run["id"], "run_name": run["name"], "db": str(store.path),
                "config": plan["config"], "hw": plan["hw"], "base_model": plan["base_model"],
                "base_path": plan["base_path"], "init_from": plan["init_from"],
                "dataset": run["dataset"], "dataset_version": run["dataset_version"],
                "template": plan["template"], "output_dir": run["output_dir"],
                "train_file": str(run_dir / "train.jsonl"),
                "eval_file": str(run_dir / "eval.jsonl") if plan["eval_rows"] else None,
                "stats": plan["stats"]}
        (run_dir / "run.json").write_text(json.dumps(spec, indent=2))
    except OSError as exc:
        store.set_run_status(run["id"], "failed", error=f"cannot write the run folder {run_dir}: {exc}")
        raise TrainError(f"cannot write the run folder {run_dir}: {exc.strerror or exc}") from exc
    job_id = jobs.submit(store, "train", {"run_id": run["id"]}, title=f"train {run['name']}", spawn=False)
    store.update_run(run["id"], job_id=job_id)   # before its child starts: the child claims the run
    if spawn:
        jobs.start(store, job_id)
    return store.get_run(run["id"])


def train_job(ctx) -> dict:
    """Job body: wait for the devices, run the saved command, mirror progress, record the end."""
    from pipeline.jobs import JobCancelled
    from pipeline.store import ConflictError

    store = ctx.store
    run = store.get_run(int(ctx.params["run_id"]))
    # One training per run: a second job for it (a Jobs-tab resume of the old job next to a
    # Train-tab resume, two quick presses) ends here instead of training the run twice.
    owner = store.claim_run_for_job(run["id"], ctx.job_id)
    if owner is not None:
        raise TrainError(f"run {run['name']!r} is already being trained by job {owner}; this job "
                         "did nothing (one run trains once at a time)")
    while True:
        reconcile_runs(store)
        try:
            holder = store.claim_devices(run["id"], run["devices"], job_id=ctx.job_id)
        except ConflictError as exc:
            raise TrainError(f"run {run['name']!r}: {exc}") from None
        if holder is None:
            break
        ctx.progress(0, None, f"waiting: run {holder} is using {run['devices']}", force=True)
        time.sleep(QUEUE_POLL_S)
    env = dict(os.environ, STUDIO_DB=str(store.path), PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, run["num_devices"]))))
    ctx.log("command: " + run["command"])
    # In the job's own process group, so a cancel or kill of the job reaches accelerate's workers too.
    proc = subprocess.Popen(launch.launch_command(Path(run["output_dir"]).parent),
                            cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            r = store.get_run(run["id"])
            loss = store.latest_run_loss(run["id"])
            note = f"step {r['step']}/{r['total_steps'] or '?'}" + (f" · loss {loss:.4f}" if loss else "")
            if r["status"] == "stopping":
                note += " · stopping: saving a checkpoint"
            ctx.progress(r["step"], r["total_steps"], note)
            time.sleep(1.0)
    except (JobCancelled, KeyboardInterrupt):
        _end_child(proc)
        store.set_run_status(run["id"], "cancelled", error="cancelled; resume continues from the last checkpoint")
        raise
    r = store.get_run(run["id"])
    if proc.returncode != 0:
        reason = r["error"] or f"the training process exited with code {proc.returncode}; see the job log"
        store.set_run_status(run["id"], "failed", error=reason)
        raise TrainError(reason)
    result = r["result"] or {}
    status = "stopped" if result.get("stopped") else "done"
    store.set_run_status(run["id"], status)
    ctx.progress(r["step"], r["total_steps"] or r["step"], f"{status} at step {r['step']}", force=True)
    loss = result.get("train_loss")
    loss_text = f" (train loss {loss:.4f})" if isinstance(loss, (int, float)) else ""
    return {"run_id": run["id"], "status": status, "step": r["step"],
            "message": f"run {run['name']} {status} at step {r['step']}{loss_text}"}


def before_resume(store, job: dict) -> None:
    """The Jobs tab's Resume on a train job goes through the same compare-and-set as the Train
    tab's: it is refused while another job owns the run (queued or training). pipeline.jobs.resume
    finds it by name (pipeline.jobs.before_resume_hook)."""
    run_id = int((job.get("params") or {}).get("run_id") or 0)
    reconcile_runs(store)
    run = store.get_run(run_id)
    if not store.reserve_run_resume(run_id, RESUMABLE_RUN) or not store.attach_run_job(run_id, job["id"]):
        now = store.get_run(run_id)
        raise TrainError(f"run {run['name']!r} is already being resumed (it is {now['status']}"
                         f"{', job ' + str(now['job_id']) if now['job_id'] else ''}); nothing to do")


def _end_child(proc: subprocess.Popen) -> None:
    """End the launcher and every training process under it (accelerate does not always pass a
    SIGTERM on to its workers, and an orphaned worker would train on with nobody watching)."""
    import psutil

    try:
        workers = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        workers = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for worker in workers:
        try:
            worker.kill()
        except psutil.NoSuchProcess:
            pass


def reconcile_runs(store) -> list[int]:
    """Runs whose job is gone (killed app, killed job, crashed machine) become `interrupted`."""
    from pipeline import jobs

    jobs.supervise(store)
    changed = []
    for r in store.runs_with_job():
        if r["job_status"] in ("queued", "running"):
            continue
        if store.set_run_status(r["id"], "interrupted", only_if=("queued", "running", "stopping"),
                                error=f"its job ended ({r['job_status'] or 'missing'}); resume continues "
                                      "from the last checkpoint"):
            changed.append(r["id"])
    return changed


def stop_run(store, run_ref) -> dict:
    """Running: save a checkpoint at the next step and end. Queued: leave the queue."""
    from pipeline import jobs

    run = store.get_run(run_ref)
    if run["status"] == "running":
        store.request_run_stop(run["id"])
    elif run["status"] == "queued" and run["job_id"]:
        jobs.cancel(store, run["job_id"])
        store.set_run_status(run["id"], "cancelled", error="left the queue before starting")
    else:
        raise TrainError(f"run {run['name']!r} is {run['status']}; only queued or running runs stop")
    return store.get_run(run["id"])


RESUMABLE_RUN = ("interrupted", "cancelled", "stopped", "failed")


def resume_run(store, run_ref, *, spawn: bool = True) -> dict:
    """Continue an interrupted, cancelled, stopped or failed run from its last checkpoint."""
    from pipeline import jobs

    reconcile_runs(store)
    run = store.get_run(run_ref)
    if run["status"] in ("queued", "running", "stopping"):
        raise TrainError(f"run {run['name']!r} is {run['status']}; nothing to resume")
    if run["status"] == "done":
        raise TrainError(f"run {run['name']!r} finished at step {run['step']}; to train further start "
                         f"a new run with init_from_run={run['name']}")
    # The compare-and-set: of two presses (or a Jobs-tab resume of the old job) one wins.
    if not store.reserve_run_resume(run["id"], RESUMABLE_RUN):
        now = store.get_run(run["id"])
        raise TrainError(f"run {run['name']!r} is already being resumed (it is {now['status']}"
                         f"{', job ' + str(now['job_id']) if now['job_id'] else ''}); nothing to do")
    job_id = jobs.submit(store, "train", {"run_id": run["id"]}, title=f"train {run['name']} (resume)",
                         spawn=False)
    if not store.attach_run_job(run["id"], job_id):
        store.finish_job(job_id, "cancelled", error="another job took this run first", only_if=("queued",))
        raise TrainError(f"run {run['name']!r} was just resumed by another job; nothing to do")
    if spawn:
        jobs.start(store, job_id)
    return store.get_run(run["id"])
