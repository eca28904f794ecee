"""Jobs: long work in a child process whose state lives in the store.

    job_id = submit(store, "prepare_model", {"name": "SmolLM2-135M-Instruct"})
    python -m pipeline jobs list|show ID|cancel ID|resume ID

A job is a row in `jobs` plus a child `python -m pipeline.jobs run ID` started in its own session
(so its process group can be killed whole). The child imports the kind's function, which its
stage declares in JOB_KINDS (see pipeline/stages.py),
and calls it with a JobContext; the function reports progress through `ctx.progress`, which
writes done/total/rate/ETA to the store, and must be idempotent so `resume` can run it again
(labelling skips done rows, preparing a model skips finished steps...). Output goes to
$STUDIO_HOME/jobs/ID.log. On app start `reap_interrupted` turns `running` jobs whose process is
gone into `interrupted`; nothing about a job depends on the browser or the app staying up.
"""
from __future__ import annotations

from pipeline.errors import StudioError

import importlib
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import psutil

from pipeline.paths import jobs_dir, studio_home
from pipeline.stages import job_kinds
from pipeline.store import Store, open_store


CANCEL_GRACE_S = 5.0
PROGRESS_EVERY_S = 0.5
_children: dict[int, subprocess.Popen] = {}  # reaped here so finished children never linger as zombies


class JobError(StudioError):
    """A job cannot be submitted, cancelled or resumed; the message says why."""


class JobCancelled(Exception):
    """Raised inside a job when it has been cancelled; the runner records it as cancelled."""


@dataclass
class JobContext:
    store: Store
    job_id: int
    params: dict
    resumed: bool = False
    total: int | None = None
    _started: float = field(default_factory=time.monotonic)
    _first_done: int | None = None
    _last_write: float = 0.0
    _done: int = 0

    def progress(self, done: int, total: int | None = None, message: str | None = None,
                 force: bool = False) -> None:
        """Record progress; rate and ETA are measured from this attempt's own work."""
        if total is not None:
            self.total = total
        if self._first_done is None:
            self._first_done, self._started = done, time.monotonic()
        self._done = done
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_EVERY_S and done != self.total:
            return
        self._last_write = now
        elapsed = now - self._started
        worked = done - self._first_done
        rate = worked / elapsed if elapsed > 0 and worked > 0 else None
        eta = (self.total - done) / rate if rate and self.total is not None else None
        self.store.update_job_progress(self.job_id, done, self.total, rate, eta, message)
        if self.store.job_status(self.job_id) not in ("running", "queued"):
            raise JobCancelled()

    def log(self, message: str) -> None:
        print(time.strftime("%H:%M:%S"), message, flush=True)


def submit(store: Store, kind: str, params: dict | None = None, title: str | None = None,
           *, spawn: bool = True, env: dict | None = None) -> int:
    """Queue a job and start its child. `env` is added to the child's environment only (a
    session API key, say): it is never stored, so a resume must pass it again."""
    if kind not in job_kinds():
        raise JobError(f"unknown job kind {kind!r}; known: {', '.join(sorted(job_kinds()))}")
    job_id = store.create_job(kind, params or {}, title)
    if spawn:
        start(store, job_id, env=env)
    return job_id


def start(store: Store, job_id: int, env: dict | None = None) -> subprocess.Popen:
    """Start the child for a queued job, in its own session, with output to the job's log."""
    log_path = log_path_for(job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    extra_env = env or {}
    env = dict(os.environ, STUDIO_HOME=str(studio_home()), STUDIO_DB=str(store.path),
               PYTHONUNBUFFERED="1")
    env.update({str(k): str(v) for k, v in extra_env.items()})
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.jobs", "run", str(job_id)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=str(root), start_new_session=True,
        )
    _children[proc.pid] = proc
    return proc


def log_path_for(job_id: int) -> Path:
    return jobs_dir() / f"{job_id}.log"


def run(job_id: int, store: Store | None = None) -> str:
    """Body of the child process: run the job function and record how it ended."""
    store = store or open_store(os.environ.get("STUDIO_DB") or None)
    job = store.get_job(job_id)
    me = psutil.Process()
    store.mark_job_started(job_id, me.pid, me.create_time(), str(log_path_for(job_id)))
    ctx = JobContext(store, job_id, job["params"], resumed=job["attempts"] > 0)

    def on_term(signum, frame):
        # Once: a second SIGTERM must not interrupt the cleanup (storing replies already paid for).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise JobCancelled()

    signal.signal(signal.SIGTERM, on_term)
    ctx.log(f"job {job_id} ({job['kind']}) attempt {job['attempts'] + 1} pid {me.pid}")
    try:
        result = _resolve(job["kind"])(ctx)
    except JobCancelled:
        store.finish_job(job_id, "cancelled", error="cancelled")
        ctx.log("cancelled")
        return "cancelled"
    except Exception as exc:  # the job failed; the row says why, the log has the traceback
        traceback.print_exc()
        store.finish_job(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return "failed"
    # A job may end early on purpose (a budget cap, say): its own closing message stays visible.
    message = result.get("message") if isinstance(result, dict) and result.get("message") else "done"
    done = ctx._done if ctx.total is None or message != "done" else ctx.total
    store.update_job_progress(job_id, done, ctx.total, None, None, message)
    store.finish_job(job_id, "done", result=result)
    ctx.log("done")
    return "done"


def _resolve(kind: str) -> Callable[[JobContext], Any]:
    module, _, func = job_kinds()[kind].partition(":")
    return getattr(importlib.import_module(module), func)


def is_alive(pid: int | None, started: float | None) -> bool:
    """True when `pid` is still the process we started (not a zombie, not a reused pid)."""
    if not pid:
        return False
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        _children.pop(pid, None)
        return False
    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(p.create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False


def cancel(store: Store, job_id: int) -> dict:
    job = store.get_job(job_id)
    if job["status"] not in ("queued", "running"):
        raise JobError(f"job {job_id} is {job['status']}; only queued or running jobs can be cancelled")
    store.finish_job(job_id, "cancelled", error="cancelled by user")
    if is_alive(job["pid"], job["pid_started"]):
        _kill_group(job["pid"])
    return store.get_job(job_id)


def _kill_group(pid: int) -> None:
    """SIGTERM the job's whole process group, then SIGKILL whatever is left after a grace period."""
    try:
        victims = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        victims = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        for v in victims:  # descendants that left the group (setsid) are found by ancestry
            try:
                if os.getpgid(v.pid) != pid:  # the group signal above reached the others once
                    v.send_signal(sig)
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
        deadline = time.monotonic() + (CANCEL_GRACE_S if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            if not any(is_alive(v.pid, None) for v in victims) and not is_alive(pid, None):
                return
            time.sleep(0.05)


def reap_interrupted(store: Store) -> list[int]:
    """Mark running jobs whose process is gone as interrupted (after a crash or a restart)."""
    gone = []
    for job in store.list_jobs(limit=10_000, status="running"):
        full = store.get_job(job["id"])
        if not is_alive(full["pid"], full["pid_started"]):
            if store.finish_job(job["id"], "interrupted", error="process ended without finishing",
                                only_if=("running",)):
                gone.append(job["id"])
    return gone


def resume(store: Store, job_id: int, env: dict | None = None) -> dict:
    job = store.get_job(job_id)
    if job["status"] == "running" and is_alive(job["pid"], job["pid_started"]):
        raise JobError(f"job {job_id} is still running")
    if job["status"] in ("done",):
        raise JobError(f"job {job_id} is done; nothing to resume")
    store.requeue_job(job_id)
    start(store, job_id, env=env)
    return store.get_job(job_id)


def wait(store: Store, job_id: int, timeout: float = 600, poll: float = 0.2) -> dict:
    """Block until a job leaves queued/running (CLI `--wait`, tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.get_job(job_id)
        if job["status"] not in ("queued", "running"):
            return job
        if job["status"] == "running" and not is_alive(job["pid"], job["pid_started"]):
            reap_interrupted(store)
        time.sleep(poll)
    raise JobError(f"job {job_id} still {store.job_status(job_id)} after {timeout:.0f}s")


def tail_log(job_id: int, max_bytes: int = 20_000) -> str:
    path = log_path_for(job_id)
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - max_bytes))
        return fh.read().decode("utf-8", "replace")


def format_progress(job: dict) -> str:
    """'120/400 · 12.3/s · ETA 23s' for tables and the CLI."""
    parts = [f"{job['done']}/{job['total']}" if job.get("total") else str(job.get("done") or 0)]
    if job.get("rate"):
        parts.append(f"{job['rate']:.3g}/s")
    if job.get("eta_s") is not None and job.get("status") == "running":
        parts.append(f"ETA {job['eta_s']:.0f}s")
    return " · ".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "run":
        status = run(int(argv[1]))
        return 0 if status == "done" else 1
    print("usage: python -m pipeline.jobs run JOB_ID  (use `python -m pipeline jobs` for the CLI)")
    return 2

