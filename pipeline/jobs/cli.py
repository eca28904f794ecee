"""`python -m pipeline jobs list|show|cancel|resume|log|wait`."""
from __future__ import annotations

import argparse
import getpass
import json
import os

from pipeline import jobs
from pipeline.store import Store, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list, inspect, cancel and resume background jobs")
    jsub = p.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    ls = jsub.add_parser("list", help="recent jobs with their progress")
    ls.add_argument("--status", help="only jobs with this status (running, failed, …)")
    ls.add_argument("--limit", type=int, default=20, help="how many rows (newest first)")
    ls.set_defaults(func=cmd_list)
    for name, func, text in [
        ("show", cmd_show, "one job as JSON, with the tail of its log"),
        ("cancel", cmd_cancel, "ask a job to stop (it finishes requests already sent), then kill its "
                               "process group after the kind's grace period"),
        ("resume", cmd_resume, "run an interrupted, failed or cancelled job again where it stopped"),
        ("log", cmd_log, "print a job's log"),
        ("wait", cmd_wait, "block until a job finishes; exit 0 only if it is done"),
    ]:
        sp = jsub.add_parser(name, help=text)
        sp.add_argument("job_id", type=int, help="the job's id (see `jobs list`)")
        sp.set_defaults(func=func)
        if name == "resume":
            key = sp.add_mutually_exclusive_group()
            key.add_argument("--key-from-env", metavar="VAR",
                             help="give the resumed job the session API key held in this environment variable "
                                  "(read here, passed to the job's process only, never stored)")
            key.add_argument("--ask-key", action="store_true",
                             help="prompt for the session API key without echoing it")


def _store() -> Store:
    store = open_store()
    jobs.supervise(store)
    return store


def cmd_list(args: argparse.Namespace) -> int:
    rows = _store().list_jobs(limit=args.limit, status=args.status)
    if not rows:
        print("no jobs")
        return 0
    print(f"{'id':>4}  {'status':<11} {'kind':<16} {'progress':<28} message")
    for j in rows:
        print(f"{j['id']:>4}  {j['status']:<11} {j['kind']:<16} {jobs.format_progress(j):<28} "
              f"{(j['error'] if j['status'] in ('failed', 'interrupted') else j['message']) or ''}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    job = _store().get_job(args.job_id)
    print(json.dumps(job, indent=2, default=str))
    print("--- log tail ---")
    print(jobs.tail_log(args.job_id, 4000))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    job = jobs.cancel(_store(), args.job_id)
    print(f"job {job['id']} {job['status']}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    api_key = None
    if args.key_from_env:
        api_key = os.environ.get(args.key_from_env, "").strip()
        if not api_key:
            raise jobs.JobError(f"--key-from-env {args.key_from_env}: that variable is not set or empty")
    elif args.ask_key:
        api_key = getpass.getpass("API key for this job (not stored): ").strip() or None
    job = jobs.resume(_store(), args.job_id, api_key=api_key)
    print(f"job {job['id']} resumed (attempt {job['attempts'] + 1}); follow with "
          f"`python -m pipeline jobs wait {job['id']}`")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    print(jobs.tail_log(args.job_id, 10_000_000), end="")
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    job = jobs.wait(_store(), args.job_id, timeout=24 * 3600)
    print(f"job {job['id']} {job['status']}" + (f": {job['error']}" if job["error"] else ""))
    return 0 if job["status"] == "done" else 1
