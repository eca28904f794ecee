"""`python -m pipeline pairs list|show|edit|messages|approve|reject|bulk|stats|clean|import|freeze|export|datasets`
— the CLI twin of the Pairs tab."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from pipeline import jobs
from pipeline.clean.job import CleanConfig, run_clean, unflag
from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments, config_from_args
from pipeline.models.templates import template_names
from pipeline.pairs.export import FORMS, freeze_dataset
from pipeline.pairs.importer import ImportConfig, import_file, preview_file
from pipeline.pairs.split import SplitSettings, describe_split
from pipeline.paths import read_user_text
from pipeline.store import StoreError, open_store
from pipeline.store.pairs import STATUS_ACTIONS, PairFilter


def register(sub) -> None:
    p = sub.add_parser("pairs", help="review, edit, clean, import and export instruction pairs")
    ps = p.add_subparsers(dest="pairs_command", required=True, metavar="ACTION")

    ls = ps.add_parser("list", help="one page of pairs matching a filter")
    add_config_arguments(ls, PairFilter)
    ls.add_argument("--page", type=int, default=1, help="page number, from 1")
    ls.add_argument("--page-size", type=int, default=30, help="pairs per page")
    ls.add_argument("--order", default="id", help="id, -id, length, -length or updated")
    ls.set_defaults(func=cmd_list)

    show = ps.add_parser("show", help="one pair with its code, history and label-vs-edit diff")
    show.add_argument("pair_id", type=int, help="the pair's id")
    show.add_argument("--json", action="store_true", help="print the raw row as JSON")
    show.set_defaults(func=cmd_show)

    edit = ps.add_parser("edit", help="change a pair's instruction, input or output (recorded in its history)")
    edit.add_argument("pair_id", type=int, help="the pair's id")
    edit.add_argument("--field", required=True, choices=["instruction", "input", "output"], help="which text to change")
    text = edit.add_mutually_exclusive_group(required=True)
    text.add_argument("--value", help="the new text")
    text.add_argument("--value-file", help="read the new text from this file ('-' = stdin)")
    edit.add_argument("--revision", type=int, help="fail if the pair changed since this revision (see `show`)")
    edit.set_defaults(func=cmd_edit)
    from pipeline.pairs import conversations_cli

    conversations_cli.register(ps)

    for action, status in STATUS_ACTIONS.items():
        if action == "draft":
            continue
        sp = ps.add_parser(action, help=f"mark pairs {status}")
        sp.add_argument("pair_ids", type=int, nargs="+", help="pair ids")
        sp.set_defaults(func=cmd_status, status=status)

    bulk = ps.add_parser("bulk", help="approve, reject or reset to draft every pair matching a filter")
    bulk.add_argument("action", choices=list(STATUS_ACTIONS), help="what to do with the matching pairs")
    add_config_arguments(bulk, PairFilter)
    bulk.add_argument("--dry-run", action="store_true", help="only count the pairs that would change")
    bulk.set_defaults(func=cmd_bulk)

    stats = ps.add_parser("stats", help="counts by status, language, origin and flag")
    add_config_arguments(stats, PairFilter)
    stats.set_defaults(func=cmd_stats)

    clean = ps.add_parser("clean", help="flag duplicates, contaminated and low-quality pairs (or --unflag)")
    add_config_arguments(clean, CleanConfig)
    clean.add_argument("--unflag", choices=["duplicate", "contaminated", "filtered", "all"],
                       help="remove these flags instead of cleaning (nothing was deleted, so this restores)")
    clean.add_argument("--job", action="store_true", help="run as a background job and print its id")
    add_wait_flags(clean)
    clean.set_defaults(func=cmd_clean)

    imp = ps.add_parser("import", help="import pairs from JSONL/JSON/CSV/TSV/Parquet (alpaca or messages)")
    imp.add_argument("path", help="the file to import")
    add_config_arguments(imp, ImportConfig, skip=("path",))
    imp.add_argument("--preview", action="store_true", help="only show the columns, first rows and suggested mapping")
    imp.add_argument("--job", action="store_true", help="run as a background job (for big files)")
    add_wait_flags(imp)
    imp.set_defaults(func=cmd_import)

    freeze = ps.add_parser("freeze", help="freeze the pairs matching a filter as the next version of a dataset")
    freeze.add_argument("name", help="dataset name")
    freeze.add_argument("--template", default="alpaca", choices=template_names(), help="prompt template for training")
    freeze.add_argument("--include-flagged", action="store_true", help="keep duplicates/contaminated/filtered pairs")
    add_config_arguments(freeze, PairFilter)
    add_config_arguments(freeze, SplitSettings)
    freeze.set_defaults(func=cmd_freeze)

    exp = ps.add_parser("export", help="write a frozen dataset to JSONL, a datasets folder, or the hub")
    exp.add_argument("dataset", help="name (latest version), name@version, or id")
    exp.add_argument("--to", dest="target", default="jsonl", choices=["jsonl", "disk", "hub"], help="where to write")
    exp.add_argument("--form", default="alpaca", choices=list(FORMS), help="JSONL records: alpaca fields (conversations: + history/system), OpenAI messages, or ShareGPT conversations")
    exp.add_argument("--out", help="output file (jsonl) or folder (disk); default under $STUDIO_HOME/datasets")
    exp.add_argument("--repo-id", help="hub dataset repo, user/name (token from $HF_TOKEN)")
    exp.add_argument("--public", action="store_true", help="make the hub repo public (default private)")
    exp.add_argument("--job", action="store_true", help="run as a background job")
    add_wait_flags(exp, wait_by_default=True)
    exp.set_defaults(func=cmd_export)

    ds = ps.add_parser("datasets", help="frozen datasets and their versions")
    ds.set_defaults(func=cmd_datasets)


def _config(cls, args, **overrides):
    try:
        return config_from_args(cls, args, **overrides)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def _submit(kind: str, params: dict, wait: bool) -> int:
    store = open_store()
    return follow_job(store, jobs.submit(store, kind, params), wait, report=_result_lines)


def _result_lines(job: dict) -> list[str]:
    return [json.dumps(job["result"], indent=2, default=str)] if job.get("result") else []


def cmd_list(args) -> int:
    page = open_store().query_pairs(_config(PairFilter, args), args.page, args.page_size, args.order)
    print(f"{page['total']} pairs · page {page['page']}/{page['pages']}")
    print(f"{'id':>6}  {'status':<9}{'language':<11}{'origin':<10}{'chars':>6}  {'flags':<14} instruction")
    for r in page["rows"]:
        flags = ",".join(f for f, on in (("dup", r["dup_group"] not in (None, r["id"])),
                                         ("contam", r["contaminated_by"]), ("filter", r["flags"])) if on)
        print(f"{r['id']:>6}  {r['status']:<9}{(r['language'] or '-'):<11}{r['origin']:<10}{r['chars']:>6}  "
              f"{flags or '-':<14} {' '.join(r['instruction'].split())[:70]}")
    return 0


def cmd_show(args) -> int:
    store = open_store()
    pair = store.get_pair(args.pair_id)
    if args.json:
        print(json.dumps(pair, indent=2, default=str))
        return 0
    print(f"pair {pair['id']} · {pair['status']} · {pair['origin']} · {pair['language'] or '-'} · "
          f"revision {pair['revision']}" + (f" · {pair['repo_name']}" if pair.get("repo_name") else ""))
    for name in ("dup_group", "contaminated_by", "flags", "labeller", "prompt_version"):
        if pair.get(name):
            print(f"{name}: {pair[name]}")
    if pair.get("messages"):  # a conversation: its turns (instruction/input/output only mirror them)
        from pipeline.pairs.conversations import pair_messages, transcript

        print(f"--- conversation\n{transcript(pair_messages(pair))}")
    else:
        for name in ("instruction", "input", "output"):
            print(f"--- {name}\n{pair[name]}")
    if pair.get("snippet_code"):
        print(f"--- snippet {pair.get('snippet_path')}\n{pair['snippet_code']}")
    for e in store.pair_history(args.pair_id):
        print(f"[{e['at']}] {e['field']} edited" + (f": {e['before']} -> {e['after']}" if e["field"] == "status" else ""))
    for diff in store.label_diff(args.pair_id).values():
        print(diff)
    return 0


def cmd_edit(args) -> int:
    value = args.value
    if args.value_file:
        value = sys.stdin.read() if args.value_file == "-" else read_user_text(args.value_file, "value file")
    store = open_store()
    current = store.get_pair(args.pair_id)
    if current.get("messages"):
        from pipeline.pairs.conversations import ConversationError

        raise ConversationError(f"pair {args.pair_id} is a conversation: edit its messages with "
                                f"`python -m pipeline pairs messages {args.pair_id} --file FILE`")
    revision = args.revision if args.revision is not None else current["revision"]
    pair = store.edit_pair(args.pair_id, {args.field: value}, revision=revision)
    print(f"pair {pair['id']} {args.field} saved (revision {pair['revision']})")
    return 0


def cmd_status(args) -> int:
    store = open_store()
    for pair_id in args.pair_ids:
        store.set_pair_status(pair_id, args.status)
        print(f"pair {pair_id} {args.status}")
    return 0


def cmd_bulk(args) -> int:
    store, flt = open_store(), _config(PairFilter, args)
    status = STATUS_ACTIONS[args.action]
    if args.dry_run:
        print(f"{store.count_pairs(flt)} pairs match; they would become {status}")
        return 0
    result = store.bulk_set_status(flt, status)
    print(f"{result['changed']} pairs now {status}" +
          (f"; {result['skipped_empty']} without instruction or output left as they were" if result["skipped_empty"] else ""))
    return 0


def cmd_stats(args) -> int:
    stats = open_store().pair_stats(_config(PairFilter, args))
    print(f"{stats['total']} pairs")
    for key in ("by_status", "by_language", "by_origin", "by_labeller", "flags"):
        print(f"{key.replace('by_', ''):<10} " + "  ".join(f"{k}={v}" for k, v in stats[key].items()))
    return 0


def cmd_clean(args) -> int:
    cfg = _config(CleanConfig, args)
    if args.unflag:
        print(f"{unflag(open_store(), args.unflag, cfg.scope())} pairs unflagged ({args.unflag})")
        return 0
    if args.job:
        return _submit("clean", asdict(cfg), args.wait)

    def progress(done, total=None, message=None, **_):
        print(f"\r{message or ''}", end="", file=sys.stderr, flush=True)

    summary = run_clean(open_store(), cfg, progress=progress, log=lambda m: print(m, file=sys.stderr))
    print(file=sys.stderr)
    summary.pop("config")
    print(json.dumps(summary, indent=2))
    return 0


def cmd_import(args) -> int:
    cfg = _config(ImportConfig, args, path=args.path)
    if args.preview:
        preview = preview_file(cfg.path, cfg.format, cfg.encoding, cfg.replace_bad_bytes, rows=5)
        print(f"format {preview['format']} · shape {preview['shape']} · columns: {', '.join(preview['columns'])}")
        print(f"suggested mapping: {json.dumps(preview['mapping'])}")
        for row in preview["rows"]:
            print(json.dumps(row, ensure_ascii=False)[:200])
        for problem in preview["problems"]:
            print(f"problem: {problem}")
        return 0
    if args.job:
        params = dict(asdict(cfg), path=str(Path(cfg.path).absolute()))
        return _submit("import_pairs", params, args.wait)
    report = import_file(open_store(), cfg)
    print(f"{report['imported']} imported, {report['already_present']} already present, "
          f"{report['malformed']} bad records ({report['shape']} shape, mapping {json.dumps(report['mapping'])})")
    for e in report["errors"]:
        print(f"line {e['line']}: {e['error']}")
    return 0 if report["imported"] or report["already_present"] or not report["records"] else 1


def cmd_freeze(args) -> int:
    ds = freeze_dataset(open_store(), args.name, _config(PairFilter, args), args.template,
                        exclude_flagged=not args.include_flagged, split=_config(SplitSettings, args))
    print(f"froze {ds['name']}@{ds['version']}: {ds['size']} pairs, template {ds['template']}, "
          f"filter {json.dumps(ds['filter'])}")
    print(describe_split(ds["split_info"]))
    return 0


def cmd_export(args) -> int:
    from pipeline.pairs import export

    if args.target == "hub" and not args.repo_id:
        raise StoreError("--to hub needs --repo-id user/name")
    params = {"dataset": args.dataset, "target": args.target, "path": args.out, "form": args.form,
              "repo_id": args.repo_id, "private": not args.public}
    if args.job:
        return _submit("export_dataset", params, args.wait)
    result = export.export_to(open_store(), args.target, args.dataset, path=args.out, form=args.form,
                              repo_id=args.repo_id, private=not args.public)
    print(json.dumps(result, indent=2))
    if result.get("changed_since_freeze"):
        print("note: some frozen pairs were edited after the freeze; freeze again for a new version", file=sys.stderr)
    return 0


def cmd_datasets(args) -> int:
    rows = open_store().list_datasets()
    if not rows:
        print("no frozen datasets; make one with `python -m pipeline pairs freeze NAME --status approved`")
    for d in rows:
        print(f"{d['name']}@{d['version']:<4} {d['size'] or 0:>7} pairs  {d.get('test_size') or 0:>5} test  "
              f"{d['template']:<9} {d['created_at']}  "
              f"{json.dumps(d['filter'])}")
    return 0
