"""`python -m pipeline train preview|start|stop|resume|runs|show|metrics|diff|merge|push`.

    python -m pipeline train preview --dataset gd --method lora --max-steps 200
    python -m pipeline train start --run-name gd-lora --dataset gd --method lora --wait
    python -m pipeline train start --dataset gd --distributed fsdp_grad_op --gpus 0,1
    python -m pipeline train stop gd-lora            # checkpoint at the next step, then end
    python -m pipeline train resume gd-lora          # from its last checkpoint
    python -m pipeline train diff gd-lora gd-lora-2  # settings that differ
    python -m pipeline train merge gd-lora-step200   # fold a LoRA checkpoint into its base
    python -m pipeline train push gd-lora-step200 me/gd-lora   # token from HF_TOKEN

`preview` prints the exact command, the generated config files and the memory estimate without
starting anything; `start` saves exactly those with the run.
"""
from __future__ import annotations

import json
import sys

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments
from pipeline.store import open_store


def register(sub) -> None:
    from pipeline.train.config import TrainConfig

    p = sub.add_parser("train", help="fine-tune a model on a frozen dataset (full, LoRA, QLoRA; "
                                     "CPU, DDP, DeepSpeed, FSDP, multi-node)")
    tsub = p.add_subparsers(dest="train_command", required=True, metavar="ACTION")
    prev = tsub.add_parser("preview", help="the exact command, config files, data stats and memory "
                                           "estimate of a run, without starting it")
    add_config_arguments(prev, TrainConfig)
    prev.set_defaults(func=cmd_preview)
    start = tsub.add_parser("start", help="start a training run as a job (queued behind runs on the same devices)")
    add_config_arguments(start, TrainConfig)
    add_wait_flags(start)
    start.set_defaults(func=cmd_start)
    for name, func, text in [("stop", cmd_stop, "save a checkpoint at the next step and end the run"),
                             ("resume", cmd_resume, "continue an interrupted, stopped or failed run "
                                                    "from its last checkpoint"),
                             ("show", cmd_show, "a run's settings, command, files, status and checkpoints"),
                             ("metrics", cmd_metrics, "a run's per-step loss, eval loss, lr, tokens/s")]:
        sp = tsub.add_parser(name, help=text)
        sp.add_argument("run", help="run name or id")
        if name == "resume":
            add_wait_flags(sp)
        sp.set_defaults(func=func)
    runs = tsub.add_parser("runs", help="training runs, newest first, with status, step, loss and cost")
    runs.add_argument("--limit", type=int, default=30, help="how many rows")
    runs.set_defaults(func=cmd_runs)
    diff = tsub.add_parser("diff", help="the settings that differ between two runs")
    diff.add_argument("a", help="first run (name or id)")
    diff.add_argument("b", help="second run (name or id)")
    diff.set_defaults(func=cmd_diff)
    merge = tsub.add_parser("merge", help="merge a LoRA checkpoint into its base and register the result")
    merge.add_argument("model", help="registered LoRA checkpoint (e.g. RUN-step200)")
    merge.add_argument("--name", help="name of the merged model (default: MODEL-merged)")
    merge.set_defaults(func=cmd_merge)
    push = tsub.add_parser("push", help="upload a model or adapter folder to the Hugging Face hub")
    push.add_argument("model", help="registered local model (a checkpoint, a merged model)")
    push.add_argument("repo", help="hub repo id, owner/name")
    push.add_argument("--public", action="store_true", help="create the repo public (default private)")
    push.set_defaults(func=cmd_push)


def _config(args):
    from pipeline.train.config import TrainConfig

    return TrainConfig.from_args(args)


def cmd_preview(args) -> int:
    from pipeline.train.job import plan_run, plan_text

    print(plan_text(plan_run(open_store(), _config(args))))
    return 0


def _run_report(store, run_id: int):
    """What `--wait` prints once the run's job ends: the run's own state, step and loss."""
    def report(job: dict) -> list[str]:
        from pipeline.train.job import reconcile_runs

        reconcile_runs(store)
        run = store.get_run(run_id)
        loss = store.latest_run_loss(run_id)
        return [f"run {run['name']} {run['status']} at step {run['step']}/{run['total_steps'] or '?'}"
                + (f" · loss {loss:.4f}" if loss is not None else "")]
    return report


def cmd_start(args) -> int:
    from pipeline.train.job import start_run

    store = open_store()
    run = start_run(store, _config(args))
    print(f"run {run['name']} (id {run['id']}) queued as job {run['job_id']}\n$ {run['command']}")
    return follow_job(store, run["job_id"], args.wait, report=_run_report(store, run["id"]))


def cmd_stop(args) -> int:
    from pipeline.train.job import stop_run

    run = stop_run(open_store(), args.run)
    print(f"run {run['name']} {run['status']}")
    return 0


def cmd_resume(args) -> int:
    from pipeline.train.job import resume_run

    store = open_store()
    run = resume_run(store, args.run)
    print(f"run {run['name']} queued again as job {run['job_id']}")
    return follow_job(store, run["job_id"], args.wait, report=_run_report(store, run["id"]))


def cmd_runs(args) -> int:
    from pipeline.train.job import reconcile_runs
    from pipeline.train.outputs import cost_line

    store = open_store()
    reconcile_runs(store)
    rows = store.list_runs(args.limit)
    if not rows:
        print("no training runs")
    for r in rows:
        loss = store.latest_run_loss(r["id"])
        print(f"{r['id']:>4}  {r['name']:<28} {r['status']:<11} {r['method'] or '':<5} "
              f"step {r['step']}/{r['total_steps'] or '?':<6} loss {loss if loss is None else round(loss, 4)}  "
              f"{cost_line(r)}")
    return 0


def cmd_show(args) -> int:
    from pipeline.train.outputs import cost_line

    store = open_store()
    run = store.get_run(args.run)
    print(json.dumps({k: v for k, v in run.items() if k != "launch_files"}, indent=2, default=str))
    print(f"cost: {cost_line(run)}")
    for fname, text in (run["launch_files"] or {}).items():
        print(f"--- {fname}\n{text.rstrip()}")
    for c in store.run_checkpoints(run["id"]):
        print(f"checkpoint {c['name']}: {c['path']}")
    return 0


def cmd_metrics(args) -> int:
    store = open_store()
    run = store.get_run(args.run)
    print(f"{'step':>6} {'loss':>9} {'eval_loss':>9} {'lr':>10} {'grad_norm':>9} {'tok/s':>8} {'mem MB':>8}")
    for m in store.run_metrics(run["id"]):
        cells = [m["loss"], m["eval_loss"], m["learning_rate"], m["grad_norm"], m["tokens_per_s"], m["memory_mb"]]
        print(f"{m['step']:>6} " + " ".join(f"{'' if v is None else f'{v:.4g}':>9}" for v in cells))
    return 0


def cmd_diff(args) -> int:
    from pipeline.train.outputs import diff_runs

    rows = diff_runs(open_store(), args.a, args.b)
    if not rows:
        print("same settings")
    for name, a, b in rows:
        print(f"{name:<24} {a!s:<24} → {b}")
    return 0


def cmd_merge(args) -> int:
    from pipeline.train.outputs import merge_adapter

    model = merge_adapter(open_store(), args.model, args.name)
    print(f"merged into {model['path']} (model {model['name']!r})")
    return 0


def cmd_push(args) -> int:
    from pipeline.train.outputs import push_to_hub

    # The server's HF_TOKEN: the gate checks the namespace against STUDIO_HUB_NAMESPACES.
    url = push_to_hub(open_store(), args.model, args.repo, token_env="HF_TOKEN", private=not args.public)
    print(f"pushed to {url}")
    return 0


if __name__ == "__main__":
    from pipeline.__main__ import main

    sys.exit(main(["train", *sys.argv[1:]]))
