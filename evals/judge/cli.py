"""`python -m evals judge suites|import|estimate|run|list|show|export` and `python -m evals compare`.

    python -m evals judge run --judge gpt-4o-mini --contestants base tuned --mode pairwise --wait
    python -m evals judge show 3                 # scores per model and category, bias figures
    python -m evals compare --markdown board.md  # the Compare page's leaderboard, as text/CSV/Markdown

An endpoint judge's key comes from the environment variable its model names; it is never stored.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments
from pipeline.paths import write_user_text
from pipeline.store import open_store


def register(sub) -> None:
    p = sub.add_parser("judge", help="LLM-judged evals: suites, runs, scores and bias figures")
    a = p.add_subparsers(dest="judge_command", required=True, metavar="ACTION")
    a.add_parser("suites", help="judge suites (the built-in one is added on first use)").set_defaults(func=cmd_suites)
    imp = a.add_parser("import", help="import a judge suite from JSONL (id, category, instruction, "
                                      "language?, reference?), or MT-bench's question file (question_id, "
                                      "category, turns, reference?)")
    imp.add_argument("file", help="the JSONL file")
    imp.add_argument("--references", help="MT-bench reference answers (question_id, model_id, choices[0].turns)")
    imp.add_argument("--all-references", action="store_true",
                     help="use the reference answers in every category (default: math, reasoning, coding, as MT-bench)")
    imp.add_argument("--name", help="suite name (default: the file name)")
    imp.add_argument("--replace", action="store_true", help="replace a suite with the same name")
    imp.set_defaults(func=cmd_import)
    from evals.judge.run import JudgeConfig

    est = a.add_parser("estimate", help="tokens and dollars of the judge requests a run would send (sends nothing)")
    add_config_arguments(est, JudgeConfig)
    est.set_defaults(func=cmd_estimate)
    run = a.add_parser("run", help="answer the suite with each contestant and judge the answers (a job)")
    add_config_arguments(run, JudgeConfig)
    add_wait_flags(run)
    run.set_defaults(func=cmd_run)
    a.add_parser("list", help="judged evals with their scores").set_defaults(func=cmd_list)
    show = a.add_parser("show", help="one judged eval: scores per model and category, bias figures")
    show.add_argument("run_id", type=int, help="the judged eval's id (see `judge list`)")
    show.add_argument("--json", action="store_true", help="print the metrics as JSON")
    show.set_defaults(func=cmd_show)
    exp = a.add_parser("export", help="every judgment of a judged eval as JSONL (prompt, raw reply, tokens)")
    exp.add_argument("run_id", type=int, help="the judged eval's id")
    exp.add_argument("--out", help="file to write (default: stdout)")
    exp.set_defaults(func=cmd_export)

    cmp_ = sub.add_parser("compare", help="leaderboard: pass@1, validity, judge score and arena Elo per model")
    cmp_.add_argument("--judge-run", type=int, help="judged eval for the category table (default: the latest)")
    cmp_.add_argument("--csv", help="also write the table as CSV to this file")
    cmp_.add_argument("--markdown", help="also write the table as Markdown to this file")
    cmp_.set_defaults(func=cmd_compare)


def cmd_suites(args) -> int:
    from evals.judge.suites import ensure_builtin_suite

    store = open_store()
    ensure_builtin_suite(store)
    for s in store.list_judge_suites():
        print(f"{s['name']:<24} {s['items']:>4} items  {s['source'] or ''}")
    return 0


def cmd_import(args) -> int:
    from evals.judge.suites import import_judge_suite

    suite = import_judge_suite(open_store(), args.name or Path(args.file).stem, args.file, args.replace,
                               references=args.references, all_references=args.all_references)
    items = open_store().judge_items(suite["name"])
    multi = sum(1 for i in items if i.get("turns"))
    refs = sum(1 for i in items if i.get("references") or i.get("reference"))
    print(f"imported judge suite {suite['name']}: {suite['items']} items ({multi} multi-turn, {refs} with a reference)")
    return 0


def cmd_estimate(args) -> int:
    from evals.judge.run import JudgeConfig, estimate_judging

    print(estimate_judging(open_store(), JudgeConfig.from_args(args)).summary().replace("snippets", "requests"))
    return 0


def cmd_run(args) -> int:
    from evals.judge.run import JudgeConfig, start_judging

    store = open_store()
    run_id, job_id = start_judging(store, JudgeConfig.from_args(args))
    print(f"judged eval {run_id}")
    return follow_job(store, job_id, args.wait,
                      report=lambda job: [format_run(store.get_judge_run(run_id))] if job["status"] == "done" else [])


def cmd_list(args) -> int:
    from evals.judge.reliability import assess_run

    runs = open_store().list_judge_runs()
    if not runs:
        print("no judged evals yet; `python -m evals judge run --judge MODEL --contestants A B`")
    for r in runs:
        scores = ", ".join(f"{m} {v['score']}" for m, v in ((r["metrics"] or {}).get("models") or {}).items())
        if r["metrics"] and not assess_run(r)["reliable"]:
            scores = f"UNRELIABLE ({scores}): see `judge show {r['id']}`"
        print(f"{r['id']:>4} {r['status']:<9} {r['mode']:<8} judge {r['judge']:<22} {r['suite']:<20} {scores}")
    return 0


def format_bias(bias: dict) -> list[str]:
    lines = []
    for name, fig in bias.items():
        value = fig["value"]
        shown = "n/a" if value is None else (json.dumps(value) if isinstance(value, dict) else f"{value:.3f}")
        lines.append(f"  {name.replace('_', ' ')}: {shown} (n={fig['n']})"
                     + (f" — {fig['meaning']}" if fig.get("meaning") else ""))
    return lines


def format_run(run: dict) -> str:
    m = run["metrics"] or {}
    if not m:
        return f"judged eval {run['id']}: {run['status']} (no results yet){' — ' + run['error'] if run['error'] else ''}"
    from evals.judge.reliability import assess_run, verdict_line

    warning = verdict_line(assess_run(run))
    lines = [f"judged eval {run['id']} · {run['mode']} · judge {run['judge']} · suite {run['suite']} · {run['status']}",
             *([warning] if warning else []),
             "judgments: " + ", ".join(f"{k} {v}" for k, v in m["counts"].items())
             + f" · ${m.get('spend', {}).get('cost', 0):.4f}", "scores:"]
    for model, s in m["models"].items():
        extra = " ".join(f"{k} {s[k]}" for k in ("verbosity", "syntax") if k in s)
        lines.append(f"  {model:<28} {s['score']} (n={s['judged']}) {extra}".rstrip())
    if m["categories"]:
        models = list(m["models"])
        lines.append("by category: " + " | ".join(models))
        for cat, by_model in m["categories"].items():
            lines.append(f"  {cat:<22} " + " | ".join("-" if by_model.get(x) is None else f"{by_model[x]:.2f}"
                                                      for x in models))
    if m.get("turns"):
        from evals.judge.multiturn import format_turns

        lines += format_turns(m["turns"])
    return "\n".join(lines + ["bias:"] + format_bias(m["bias"]))


def cmd_show(args) -> int:
    run = open_store().get_judge_run(args.run_id)
    print(json.dumps(run["metrics"], indent=2) if args.json else format_run(run))
    return 0


def cmd_export(args) -> int:
    store = open_store()
    store.get_judge_run(args.run_id)
    lines = [json.dumps({k: j[k] for k in ("request_key", "item_id", "category", "judge", "mode", "systems",
                                            "prompt", "raw", "status", "error", "scores", "reasons", "winner",
                                            "attempts", "tokens_in", "tokens_out", "cost")})
             for j in store.judgments(args.run_id)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if args.out:
        write_user_text(args.out, text)
        print(f"wrote {len(lines)} judgments to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_compare(args) -> int:
    from evals.compare import leaderboard, to_csv, to_markdown

    board = leaderboard(open_store(), args.judge_run)
    markdown = to_markdown(board)
    print(markdown)
    for path, text in ((args.csv, to_csv(board)), (args.markdown, markdown + "\n")):
        if path:
            write_user_text(path, text)
            print(f"wrote {path}")
    return 0
