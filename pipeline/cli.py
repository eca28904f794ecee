"""What `python -m pipeline` and `python -m evals` share: one parser built from every stage's
`cli.py` (each exposes `register(subparsers)` and sets `func`; found without a central list), and
one way to end (`run_cli`): the project's named errors (`StudioError`) become a single `error: …`
line on stderr and exit code 2, never a traceback; anything else is a bug, whose traceback is
printed, kept in the studio's log file too ($STUDIO_HOME/logs/studio.log), and followed by one
`internal error: …` line (exit 1). Also `--wait/--detach` and the loop that follows a job."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path


def stage_packages(root: str) -> list[str]:
    """Dotted names of the stage packages directly under `root`, sorted."""
    package = importlib.import_module(root)
    return sorted(f"{root}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if m.ispkg)


def cli_modules(root: str) -> list[str]:
    """The `cli` module of every stage under `root` that has one (found without importing)."""
    found = []
    for name in stage_packages(root):
        folder = Path(importlib.import_module(root).__path__[0]) / name.split(".")[-1]
        if (folder / "cli.py").exists():
            found.append(f"{name}.cli")
    return found


def build_parser(prog: str, description: str, modules: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse `argv`, run the chosen command as the CLI's principal, and turn how it ended into an
    exit code (see the module's docstring)."""
    import os

    from pipeline import access

    args = parser.parse_args(argv)
    # The CLI is the owner (a shell on the server); a command a job runs acts as the job's starter.
    who = access.default_principal() if os.environ.get("STUDIO_PRINCIPAL") else access.OWNER

    def command() -> int:
        with access.acting_as(who):
            return args.func(args) or 0

    # The log names the command only: its arguments could hold a key or a private path.
    return ended(command, f"{parser.prog} {getattr(args, 'command', '')}".strip())


def ended(command: Callable[[], int], where: str) -> int:
    """Run `command` and return its exit code; a `StudioError` is one `error: …` line (2), a bug
    its traceback plus one `internal error: …` line naming the log file that also has it (1)."""
    from pipeline.errors import StudioError, record_bug

    try:
        return command()
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`: the reader left, which is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        traceback.print_exc()
        path = record_bug(exc, where, "studio.cli")
        also = f"the traceback above is also in {path}" if path else "the traceback is above"
        print(f"internal error: {type(exc).__name__}: {exc} (a bug; {also})", file=sys.stderr)
        return 1


def add_wait_flags(parser: argparse.ArgumentParser, wait_by_default: bool = False) -> None:
    """`--wait` and `--detach`, with the same meaning on every command that starts a job."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--wait", dest="wait", action="store_true", default=wait_by_default,
                       help="block until the job ends, printing its progress (count, rate, ETA); "
                            "exit 0 only if it is done" + (" (the default here)" if wait_by_default else ""))
    group.add_argument("--detach", dest="wait", action="store_false",
                       help="return as soon as the job is submitted; it runs on without this terminal"
                            + ("" if wait_by_default else " (the default here)"))


def follow_job(store, job_id: int, wait: bool, report=None, poll_s: float = 0.5) -> int:
    """Say how to follow a submitted job and, with `wait`, print each change of its progress line
    until it ends. `report(job)` returns extra lines for the end (a stage's own summary)."""
    from pipeline import jobs

    print(f"job {job_id} started; follow with `python -m pipeline jobs wait {job_id}`", flush=True)
    if not wait:
        return 0
    last = None
    while True:
        job = store.get_job(job_id)
        key = (job["done"], job.get("total"), job.get("message"), job["status"])
        if key != last:   # a new count or message, not every change of the rate estimate
            print(f"[{jobs.format_progress(job)}] {job.get('message') or ''}".rstrip(), flush=True)
            last = key
        if job["status"] not in jobs.ACTIVE:
            break
        jobs.supervise(store)   # a child killed meanwhile is marked interrupted, not waited on forever
        time.sleep(poll_s)
    for extra in (report(job) if report else None) or ():
        print(extra)
    result = job.get("result") or {}
    tail = job.get("error") or (result.get("message") if isinstance(result, dict) else None)
    print(f"job {job_id} {job['status']}" + (f": {tail}" if tail else ""), flush=True)
    return 0 if job["status"] == "done" else 1
