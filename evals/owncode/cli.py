"""`python -m evals owncode …`: the own-code eval on a dataset's held-out test split, and the verdict.

    python -m evals owncode run --model tuned --dataset mycode --wait
    python -m evals owncode list [--dataset mycode]
    python -m evals owncode show ID [--items]
    python -m evals owncode compare BASE_ID TUNED_ID
"""
from __future__ import annotations

import json
import sys

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments
from pipeline.store import open_store


def register(sub) -> None:
    from evals.owncode.run import OwnCodeConfig

    p = sub.add_parser("owncode", help="score models on a dataset's held-out code and compare two with confidence",
                       description=__doc__.splitlines()[0])
    a = p.add_subparsers(dest="owncode_command", metavar="ACTION", required=True)
    run = a.add_parser("run", help="answer every held-out item of a frozen dataset with a model and score it")
    add_config_arguments(run, OwnCodeConfig)
    run.add_argument("--job", action="store_true", help="run as a background job (the UI's way) and print its id")
    add_wait_flags(run)
    run.set_defaults(func=cmd_run)
    ls = a.add_parser("list", help="own-code evals, newest first")
    ls.add_argument("--dataset", help="only evals of this dataset (name, name@version or id)")
    ls.set_defaults(func=cmd_list)
    show = a.add_parser("show", help="one eval's figures, and with --items every item's scores")
    show.add_argument("eval_id", type=int, help="the own-code eval's id")
    show.add_argument("--items", action="store_true", help="also print each item: reference, answer, scores")
    show.set_defaults(func=cmd_show)
    cmp_ = a.add_parser("compare", help="paired comparison of two evals on the same items, said in words")
    cmp_.add_argument("a", type=int, help="the baseline eval's id (e.g. the base model)")
    cmp_.add_argument("b", type=int, help="the candidate eval's id (e.g. the fine-tune)")
    cmp_.add_argument("--json", action="store_true", help="print the whole result as JSON")
    cmp_.set_defaults(func=cmd_compare)


def cmd_run(args) -> int:
    from evals.owncode.run import OwnCodeConfig, run_owncode, submit_owncode

    config = OwnCodeConfig.from_args(args)
    store = open_store()
    if args.job:
        return follow_job(store, submit_owncode(store, config), args.wait,
                          report=lambda job: [json.dumps(job.get("result"), indent=2)] if job.get("result") else [])

    def progress(done, total=None, message=None, **_):
        print(f"\r{done}/{total} {message or ''}", end="", file=sys.stderr, flush=True)

    eval_id = run_owncode(store, config, progress=progress, log=lambda m: print(m, file=sys.stderr))
    print(file=sys.stderr)
    _print_eval(store.get_owncode_eval(eval_id))
    return 0


def _print_eval(e: dict) -> None:
    m = e.get("metrics") or {}
    print(f"own-code eval {e['id']} · {e['model']} on {e['dataset']} · {e['status']}"
          + (f" · error: {e['error']}" if e.get("error") else ""))
    for line in metric_lines(m):
        print("  " + line)


def metric_lines(m: dict) -> list[str]:
    if not m:
        return ["no figures yet"]
    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"
    lines = [f"items {m['items']} (empty answers {m.get('empty', 0)})",
             f"chrF {m['chrf']:.1f}" if m.get("chrf") is not None else "chrF -",
             f"exact match {pct(m.get('exact'))}",
             f"syntax valid {pct(m.get('valid'))} of {m.get('checked', 0)} checkable",
             f"reference loss {m['loss']:.3f} per token over {m['loss_items']} items" if m.get("loss") is not None
             else "reference loss - (endpoint or not computed)",
             f"doctests passed {pct(m.get('doctest'))} of {m.get('doctest_items', 0)} items with doctests"]
    if m.get("doctests_skipped"):
        lines.append(m["doctests_skipped"])
    if m.get("verdict"):
        lines.append(f"verdict vs eval {m['verdict_vs']}: {m['verdict']}")
    return lines


def cmd_list(args) -> int:
    store = open_store()
    dataset_id = None
    if args.dataset:
        from evals.owncode.run import resolve_dataset

        dataset_id = resolve_dataset(store, args.dataset)["id"]
    rows = store.list_owncode_evals(dataset_id)
    if not rows:
        print("no own-code evals yet; run one with `python -m evals owncode run --model M --dataset D`")
    for e in rows:
        m = e.get("metrics") or {}
        chrf = f"{m['chrf']:.1f}" if m.get("chrf") is not None else "-"
        print(f"{e['id']:>5}  {e['status']:<8} {e['model']:<28} {e['dataset']:<20} chrF {chrf:>5}  {e['created_at']}")
    return 0


def cmd_show(args) -> int:
    store = open_store()
    _print_eval(store.get_owncode_eval(args.eval_id))
    if args.items:
        for i in store.owncode_items(args.eval_id):
            print(f"\n--- item {i['position']} (pair {i['pair_id']}): chrF {i['chrf']:.1f} exact {i['exact']} "
                  f"valid {i['valid']} loss {i['loss']} doctest {i['doctest']}")
            print(f"instruction: {i['instruction']}\n--- reference\n{i['reference']}\n--- answer\n{i['answer']}")
    return 0


def cmd_compare(args) -> int:
    from evals.owncode.compare import compare_owncode, comparison_lines

    result = compare_owncode(open_store(), args.a, args.b)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print("\n".join(comparison_lines(result)))
    return 0
