"""`python -m pipeline label estimate|run|retry-failed|failed|prompts|prices`.

    python -m pipeline label estimate --model gpt-4o-mini --language gdscript
    python -m pipeline label run --model gpt-4o-mini --budget-usd 5 --concurrency 16 --wait
    python -m pipeline label run --model docstring --wait        # offline, from docstrings
    python -m pipeline label prices set gpt-4o-mini 0.15 0.60 --batch-discount 0.5

The key of an endpoint model comes from the environment variable the model names (see
`python -m pipeline models add --api-key-env`); it is never stored.
"""
from __future__ import annotations

import sys
from pathlib import Path

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments, config_from_args
from pipeline.store import StoreError, open_store

RUN_ONLY = ("retry_failed",)


def register(sub) -> None:
    p = sub.add_parser("label", help="turn snippets into instruction pairs with an LLM or their docstrings")
    lsub = p.add_subparsers(dest="label_command", required=True, metavar="ACTION")
    from pipeline.label.labeller import LabelConfig

    est = lsub.add_parser("estimate", help="tokens and dollars for what a run would label now (sends nothing)")
    add_config_arguments(est, LabelConfig, skip=RUN_ONLY)
    est.set_defaults(func=cmd_estimate)

    preview = lsub.add_parser("preview", help="the messages the first snippet of a run would be sent "
                                               "(sends nothing)")
    add_config_arguments(preview, LabelConfig, skip=RUN_ONLY)
    preview.set_defaults(func=cmd_preview)

    run = lsub.add_parser("run", help="start a labelling job (resumable; never relabels a stored pair)")
    add_config_arguments(run, LabelConfig, skip=RUN_ONLY)
    add_wait_flags(run)
    run.set_defaults(func=cmd_run, retry=False)

    retry = lsub.add_parser("retry-failed", help="label again the snippets whose pair failed")
    add_config_arguments(retry, LabelConfig, skip=RUN_ONLY)
    add_wait_flags(retry)
    retry.set_defaults(func=cmd_run, retry=True)

    failed = lsub.add_parser("failed", help="failed rows with their error")
    failed.add_argument("--model", help="only this labeller (model name or 'docstring')")
    failed.add_argument("--prompt-version", help="only this prompt version, e.g. describe@2")
    failed.add_argument("--limit", type=int, default=50, help="how many rows")
    failed.set_defaults(func=cmd_failed)

    prompts = lsub.add_parser("prompts", help="versioned label prompt templates")
    psub = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    psub.add_parser("list", help="every template version").set_defaults(func=cmd_prompts_list)
    show = psub.add_parser("show", help="print one template (latest version unless NAME@VERSION)")
    show.add_argument("name", help="template name, or name@version")
    show.set_defaults(func=cmd_prompts_show)
    add = psub.add_parser("add", help="save a template file as the next version of NAME")
    add.add_argument("name", help="template name (a new one, or an existing one to version)")
    add.add_argument("--file", required=True, help="text file with the user message; must contain {code}")
    add.add_argument("--system-file", help="text file with the system message (optional)")
    add.set_defaults(func=cmd_prompts_add)

    prices = lsub.add_parser("prices", help="$ per million tokens per model, used by estimates and budgets")
    rsub = prices.add_subparsers(dest="prices_command", required=True, metavar="ACTION")
    rsub.add_parser("list", help="the price table").set_defaults(func=cmd_prices_list)
    pset = rsub.add_parser("set", help="add or change a model's price")
    pset.add_argument("model", help="registered model name or the model id at its endpoint")
    pset.add_argument("input", type=float, help="$ per million input tokens")
    pset.add_argument("output", type=float, help="$ per million output tokens")
    pset.add_argument("--batch-discount", type=float, default=0.5, help="fraction off with the Batch API (0.5 = half)")
    pset.set_defaults(func=cmd_prices_set)
    pdel = rsub.add_parser("delete", help="remove a model's price")
    pdel.add_argument("model", help="the model in the price table")
    pdel.set_defaults(func=cmd_prices_delete)


def _config(args, **overrides):
    from pipeline.label.labeller import LabelConfig

    try:
        return config_from_args(LabelConfig, args, **overrides).validate()
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def cmd_estimate(args) -> int:
    from pipeline.label.labeller import estimate_labelling

    print(estimate_labelling(open_store(), _config(args)).summary())
    return 0


def cmd_preview(args) -> int:
    import json

    from pipeline.label.labeller import preview_messages

    messages = preview_messages(open_store(), _config(args))
    if messages is None:
        print("nothing left to label with these settings")
        return 0
    print(json.dumps(messages, indent=2, ensure_ascii=False))
    return 0


def cmd_run(args) -> int:
    from pipeline.label.labeller import start_labelling

    store = open_store()
    job_id = start_labelling(store, _config(args, retry_failed=args.retry))
    return follow_job(store, job_id, args.wait)


def cmd_failed(args) -> int:
    rows = open_store().failed_labels(args.model, args.prompt_version, limit=args.limit)
    if not rows:
        print("no failed rows")
    for r in rows:
        print(f"pair {r['id']:>6}  snippet {r['snippet_id']:>6}  {r['labeller']} {r['prompt_version']}: {r['error']}")
    return 0


def cmd_prompts_list(args) -> int:
    for t in open_store().list_prompt_templates():
        first = t["template"].strip().splitlines()[0][:70] if t["template"].strip() else ""
        print(f"{t['name']}@{t['version']:<4} {t['created_at'][:19]}  {first}")
    return 0


def cmd_prompts_show(args) -> int:
    name, _, version = args.name.partition("@")
    if version and not version.isdigit():
        raise StoreError(f"{args.name!r}: the version after '@' must be a number")
    t = open_store().get_prompt_template(name, int(version) if version else None)
    print(f"# {t['name']}@{t['version']} ({t['purpose']})")
    if t["system"]:
        print("## system\n" + t["system"])
    print("## user\n" + t["template"])
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None


def cmd_prompts_add(args) -> int:
    from pipeline.label.labeller import save_label_prompt

    system = _read(args.system_file) if args.system_file else None
    t = save_label_prompt(open_store(), args.name, _read(args.file), system)
    print(f"saved {t['name']}@{t['version']}")
    return 0


def cmd_prices_list(args) -> int:
    print(f"{'model':<28} {'$/M in':>9} {'$/M out':>9} {'batch off':>9}")
    for p in open_store().list_prices():
        print(f"{p['model']:<28} {p['input_per_mtok']:>9.3f} {p['output_per_mtok']:>9.3f} {p['batch_discount']:>9.0%}")
    return 0


def cmd_prices_set(args) -> int:
    p = open_store().set_price(args.model, args.input, args.output, args.batch_discount)
    print(f"{p['model']}: ${p['input_per_mtok']:g}/M in, ${p['output_per_mtok']:g}/M out, "
          f"{p['batch_discount']:.0%} off with the Batch API")
    return 0


def cmd_prices_delete(args) -> int:
    open_store().delete_price(args.model)
    print(f"removed the price of {args.model}")
    return 0


if __name__ == "__main__":
    from pipeline.__main__ import main

    sys.exit(main(["label", *sys.argv[1:]]))
