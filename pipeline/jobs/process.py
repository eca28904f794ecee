"""Job child processes: start one in its own session, reap it the moment it ends (so no finished
child lingers as a zombie under the app), tell a live process from a dead or reused pid, and stop
a whole process group (SIGTERM, then SIGKILL after a grace period)."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil

_children: dict[int, subprocess.Popen] = {}


def spawn(argv: list[str], env: dict, cwd: Path, log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=str(cwd), start_new_session=True)
    _children[proc.pid] = proc
    # wait() in a thread reaps the child as soon as it exits, whether or not anyone polls it.
    threading.Thread(target=_reap, args=(proc,), daemon=True, name=f"job-child-{proc.pid}").start()
    return proc


def _reap(proc: subprocess.Popen) -> None:
    proc.wait()
    _children.pop(proc.pid, None)


def live_children() -> list[int]:
    """Pids of job children this process started that have not ended yet."""
    return [pid for pid, proc in list(_children.items()) if proc.poll() is None]


def create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return None


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


def kill_group(pid: int, term_grace_s: float) -> None:
    """SIGTERM the process group led by `pid` (and descendants that left it), then SIGKILL what
    is left after `term_grace_s`."""
    try:
        victims = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        victims = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for v in victims:  # descendants that left the group (setsid) are found by ancestry
            try:
                if os.getpgid(v.pid) != pid:  # the group signal above reached the others once
                    v.send_signal(sig)
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
        deadline = time.monotonic() + (term_grace_s if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            if not any(is_alive(v.pid, None) for v in victims) and not is_alive(pid, None):
                return
            time.sleep(0.05)
