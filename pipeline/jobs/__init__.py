"""Jobs: long work in a child process whose state lives in the store.

    job_id = submit(store, "prepare_model", {"name": "SmolLM2-135M-Instruct"})
    python -m pipeline jobs list|show ID|cancel ID|resume ID [--key-from-env VAR | --ask-key]

A job is a row in `jobs` plus a child `python -m pipeline.jobs run ID` started in its own session
(so its process group can be killed whole). The child imports the kind's function, which its
stage declares in JOB_KINDS (see pipeline/jobs/kinds.py), and calls it with a JobContext; the function
reports progress through `ctx.progress`, which writes done/total/rate/ETA to the store, and must be
idempotent so `resume` can run it again (labelling skips done rows...). Output goes to
$STUDIO_HOME/jobs/ID.log.

Guarantees (the store's compare-and-set transitions, pipeline/store/jobs.py):
- a queued job is claimed by one process only; a cancel of a queued job wins over its child;
- resume works from failed/cancelled/interrupted only, and two resumes at once start one child;
- cancel is cooperative first: the job sees the request at its next progress report and stops
  (labelling lets requests already on the wire finish and stores them); only after the kind's
  grace (`cancel_grace_s`: a request timeout for jobs that send requests) is the group killed;
- `supervise` (app start, a background thread in the app, the Jobs tab tick, the CLI) marks a
  job whose process is gone `interrupted` (or `cancelled` if that was asked), and a queued job
  whose child died before claiming it; finished children are reaped at once (no zombies).
A session API key given to submit/resume goes to the child's environment only, never the store,
so a resume must be given it again (`resume(..., api_key=...)`, the Jobs tab, the CLI flags).
"""
from __future__ import annotations

import calendar
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, cast

import psutil

from pipeline.errors import ControlFlow, StudioError
from pipeline.jobs.kinds import job_kinds
from pipeline.jobs.process import create_time, is_alive, kill_group, live_children, spawn  # noqa: F401
from pipeline.paths import jobs_dir, studio_home
from pipeline.store import Store, open_store
from pipeline.store.jobs import ACTIVE, RESUMABLE

CANCEL_GRACE_S = 10.0      # how long a job may take to stop by itself, unless its kind needs more
REQUEST_GRACE_MARGIN_S = 5.0
KILL_GRACE_S = 5.0         # after SIGTERM, before SIGKILL
SUPERVISE_EVERY_S = 2.0
PROGRESS_EVERY_S = 0.5


class JobError(StudioError):
    """A job cannot be submitted, cancelled or resumed; the message says why."""


class JobCancelled(ControlFlow):
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
                 force: bool = False, eta_s: float | None = None) -> None:
        """Record progress; rate and ETA are measured from this attempt's own work, unless the job
        knows its ETA better (`eta_s`: a job that waits on others, like the quickstart). Raises
        JobCancelled once a cancel was asked, so the job stops at a point of its choosing."""
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
        if eta_s is not None:
            eta = eta_s
        if self.store.job_should_stop(self.job_id):
            raise JobCancelled()
        self.store.update_job_progress(self.job_id, done, self.total, rate, eta, message)

    def should_stop(self) -> bool:
        return self.store.job_should_stop(self.job_id)

    def log(self, message: str) -> None:
        print(time.strftime("%H:%M:%S"), message, flush=True)


def submit(store: Store, kind: str, params: dict | None = None, title: str | None = None,
           *, spawn: bool = True, env: dict | None = None) -> int:
    """Queue a job and start its child. `env` is added to the child's environment only (a
    session API key, say): it is never stored, so a resume must pass it again."""
    if kind not in job_kinds():
        raise JobError(f"unknown job kind {kind!r}; known: {', '.join(sorted(job_kinds()))}")
    from pipeline import access

    access.require_job(kind, params)
    job_id = store.create_job(kind, params or {}, title)
    if spawn:
        start(store, job_id, env=env)
    return job_id


def start(store: Store, job_id: int, env: dict | None = None) -> subprocess.Popen:
    """Start the child for a queued job, in its own session, with output to the job's log."""
    log_path = log_path_for(job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = dict(os.environ, STUDIO_HOME=str(studio_home()), STUDIO_DB=str(store.path), PYTHONUNBUFFERED="1")
    child_env.update({str(k): str(v) for k, v in (env or {}).items()})
    from pipeline import access

    access.reached(access.Cap.SPEND_COMPUTE)
    child_env["STUDIO_PRINCIPAL"] = access.current().encode()   # the child acts as who started it
    root = Path(__file__).resolve().parents[2]
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), child_env.get("PYTHONPATH")]))
    try:
        proc = spawn([sys.executable, "-m", "pipeline.jobs", "run", str(job_id)], child_env, root, log_path)
    except OSError as exc:
        store.finish_job(job_id, "failed", error=f"could not start the job process: {exc}", only_if=("queued",))
        raise JobError(f"job {job_id} could not start its process ({exc})") from None
    store.record_spawn(job_id, proc.pid, create_time(proc.pid) or time.time())
    return proc


def log_path_for(job_id: int) -> Path:
    return jobs_dir() / f"{job_id}.log"


def run(job_id: int, store: Store | None = None, *, child: bool = False) -> str:
    """Claim the job and run its function, recording how it ended. As a child (`child=True`) it
    runs only a job it can claim; called in-process on a finished job it resumes it first."""
    store = store or open_store(os.environ.get("STUDIO_DB") or None)
    me = psutil.Process()
    if not child and store.job_status(job_id) in RESUMABLE:
        store.requeue_job(job_id)
    if not store.claim_job(job_id, me.pid, me.create_time(), str(log_path_for(job_id))):
        print(f"job {job_id} is {store.job_status(job_id)}: another process claimed or cancelled it; "
              "nothing to do", flush=True)
        return "not claimed"
    job = store.get_job(job_id)
    ctx = JobContext(store, job_id, job["params"], resumed=job["attempts"] > 1)

    def on_term(signum: int, frame: FrameType | None) -> None:
        # Once: a second SIGTERM must not interrupt the cleanup (storing replies already paid for).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise JobCancelled()

    signal.signal(signal.SIGTERM, on_term)
    ctx.log(f"job {job_id} ({job['kind']}) attempt {job['attempts']} pid {me.pid}")
    try:
        result = _resolve(job["kind"])(ctx)
    except JobCancelled:
        store.finish_job(job_id, "cancelled", error="cancelled by user", only_if=("running",), pid=me.pid)
        ctx.log("cancelled")
        return "cancelled"
    except Exception as exc:  # the job failed; the row says why
        if isinstance(exc, StudioError):   # expected: one clear line, no traceback
            ctx.log(f"failed: {exc}")
        else:                               # a bug: the log keeps the traceback
            traceback.print_exc()
        store.finish_job(job_id, "failed", error=f"{type(exc).__name__}: {exc}", only_if=("running",), pid=me.pid)
        return "failed"
    # A job may end early on purpose (a budget cap, say): its own closing message stays visible.
    message = result.get("message") if isinstance(result, dict) and result.get("message") else "done"
    done = ctx._done if ctx.total is None or message != "done" else ctx.total
    store.update_job_progress(job_id, done, ctx.total, None, None, message)
    store.finish_job(job_id, "done", result=result, only_if=("running",), pid=me.pid)
    ctx.log("done")
    return "done"


def _resolve(kind: str) -> Callable[[JobContext], Any]:
    module, _, func = job_kinds()[kind].partition(":")
    return cast(Callable[[JobContext], Any], getattr(importlib.import_module(module), func))


def session_key_env(kind: str) -> str | None:
    """The environment variable through which a kind's child receives a session API key: the
    job module's own `API_KEY_ENV` (labelling, judging), or None for kinds that take no key."""
    module = job_kinds().get(kind, "").partition(":")[0]
    return getattr(importlib.import_module(module), "API_KEY_ENV", None) if module else None


class BeforeResume(Protocol):
    """A job module's own check before one of its jobs is queued again; it raises to refuse."""
    def __call__(self, store: Store, job: dict, /) -> None: ...


def before_resume_hook(kind: str) -> BeforeResume | None:
    """The kind's job module's own `before_resume(store, job)` (training: one job per run, the
    same compare-and-set as the Train tab's), or None for kinds that need no check of their own."""
    module = job_kinds()[kind].partition(":")[0]
    return cast("BeforeResume | None", getattr(importlib.import_module(module), "before_resume", None))


def cancel_grace_s(job: dict) -> float:
    """How long a cancelled job may take to stop by itself. A job that sends paid requests gets
    its request timeout (plus a margin to store the replies), so nothing paid for is lost."""
    timeout = (job.get("params") or {}).get("request_timeout_s")
    if isinstance(timeout, (int, float)) and timeout > 0:
        return float(timeout) + REQUEST_GRACE_MARGIN_S
    return CANCEL_GRACE_S


def cancel(store: Store, job_id: int, *, wait: bool = True) -> dict:
    """Cancel a job. Queued: cancelled at once (its child will not start it). Running: asked to
    stop, then (after `cancel_grace_s`) its process group is killed; with wait=False this
    returns at once and a background thread enforces the grace."""
    from pipeline import access

    access.require(access.Cap.WRITE_DATA, access.Target(what=f"cancel job {job_id}"))
    state = store.request_cancel(job_id)
    if state == "stopped_queued":
        return store.get_job(job_id)
    if state != "requested":
        raise JobError(f"job {job_id} is {state}; only queued or running jobs can be cancelled")
    if wait:
        enforce_cancel(store, job_id)
    else:
        threading.Thread(target=enforce_cancel, args=(store, job_id), daemon=True,
                         name=f"cancel-job-{job_id}").start()
    return store.get_job(job_id)


_enforcing: set[int] = set()


def enforce_cancel(store: Store, job_id: int) -> None:
    """Wait for a cancelled running job to stop by itself; kill its group once the grace is over."""
    if job_id in _enforcing:
        return
    _enforcing.add(job_id)
    from pipeline import access

    try:
        with access.housekeeping():   # on its own thread: the cancel was allowed when it was asked
            _enforce_cancel(store, job_id)
    finally:
        _enforcing.discard(job_id)


def _enforce_cancel(store: Store, job_id: int) -> None:
    job = store.get_job(job_id)
    deadline = time.monotonic() + cancel_grace_s(job)
    # Until the process is gone, not just the row: a caller may resume right after cancel returns.
    while time.monotonic() < deadline and is_alive(job["pid"], job["pid_started"]):
        time.sleep(0.1)
    if is_alive(job["pid"], job["pid_started"]):
        kill_group(job["pid"], KILL_GRACE_S)
    store.finish_job(job_id, "cancelled", error="cancelled by user (stopped after the grace period)",
                     only_if=("running",), pid=job["pid"])


def supervise(store: Store) -> list[int]:
    """Settle jobs whose process is gone: running → interrupted (cancelled when a cancel was
    asked), queued whose child died before claiming → interrupted. Also kills a cancelled job
    that outlived its grace. Returns the ids it moved."""
    from pipeline import access

    with access.housekeeping():   # settling dead jobs is the studio's upkeep, whoever's page asked
        return _supervise(store)


def _supervise(store: Store) -> list[int]:
    moved = []
    now = time.time()
    for job in store.active_jobs():
        if job["status"] == "running" and not is_alive(job["pid"], job["pid_started"]):
            status, why = (("cancelled", "cancelled by user") if job["cancel_requested_at"]
                           else ("interrupted", "process ended without finishing"))
            if store.finish_job(job["id"], status, error=why, only_if=("running",), pid=job["pid"]):
                moved.append(job["id"])
        elif job["status"] == "running" and job["cancel_requested_at"] and job["id"] not in _enforcing:
            # A cancel asked by a process that is gone (a closed CLI, a restarted app): enforce it here.
            asked = calendar.timegm(time.strptime(job["cancel_requested_at"][:19], "%Y-%m-%dT%H:%M:%S"))
            if now - asked > cancel_grace_s(store.get_job(job["id"])) + KILL_GRACE_S:
                threading.Thread(target=enforce_cancel, args=(store, job["id"]), daemon=True).start()
        elif job["status"] == "queued" and job["spawn_pid"] and not is_alive(job["spawn_pid"], job["spawn_started"]):
            if store.reap_unstarted(job["id"], job["spawn_pid"]):
                moved.append(job["id"])
    return moved




def start_supervisor(store: Store, every_s: float = SUPERVISE_EVERY_S) -> threading.Thread:
    """A daemon thread in the app that runs `supervise` every few seconds, so a killed job shows
    `interrupted` even when no Jobs tab is open."""
    def loop() -> None:
        while True:
            try:
                supervise(store)
            except Exception as exc:  # a locked or vanished db must not end the loop; say it once per round
                print(f"warning: job supervisor: {type(exc).__name__}: {exc}", file=sys.stderr)
            time.sleep(every_s)

    thread = threading.Thread(target=loop, daemon=True, name="job-supervisor")
    thread.start()
    return thread


def resume(store: Store, job_id: int, env: dict | None = None, *, api_key: str | None = None) -> dict:
    """Run a failed, cancelled or interrupted job again where it stopped (once, however many
    people click). `api_key` is handed to the child like the first run's session key."""
    from pipeline import access

    supervise(store)
    job = store.get_job(job_id)
    access.require_job(job["kind"], job.get("params"))
    if job["status"] == "done":
        raise JobError(f"job {job_id} is done; nothing to resume")
    if job["status"] in ACTIVE:
        raise JobError(f"job {job_id} is already {job['status']}; cancel it first to start it again")
    # One process per job at any time: a child that recorded its end may still be exiting, and one
    # started just before a cancel of the queued job has yet to find it cancelled and leave.
    previous = [(job["pid"], job["pid_started"]), (job["spawn_pid"], job["spawn_started"])]
    deadline = time.monotonic() + KILL_GRACE_S + 10
    while any(is_alive(*p) for p in previous) and time.monotonic() < deadline:
        time.sleep(0.05)
    if any(is_alive(*p) for p in previous):
        raise JobError(f"job {job_id}'s previous process is still stopping; resume it in a moment")
    env = dict(env or {})
    if api_key:
        key_env = session_key_env(job["kind"])
        if not key_env:
            raise JobError(f"{job['kind']} jobs take no API key; resume it without one")
        env[key_env] = api_key
    before = before_resume_hook(job["kind"])
    if before is not None:   # the kind's own compare-and-set (training: one job per run)
        before(store, job)
    if not store.requeue_job(job_id):
        raise JobError(f"job {job_id} was just resumed by someone else (it is {store.job_status(job_id)} now)")
    start(store, job_id, env=env)
    return store.get_job(job_id)


def wait(store: Store, job_id: int, timeout: float = 600, poll: float = 0.2) -> dict:
    """Block until a job leaves queued/running (CLI `--wait`, tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.get_job(job_id)
        if job["status"] not in ACTIVE:
            return job
        supervise(store)
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
        status = run(int(argv[1]), child=True)
        return 0 if status in ("done", "not claimed") else 1
    print("usage: python -m pipeline.jobs run JOB_ID  (use `python -m pipeline jobs` for the CLI)")
    return 2
