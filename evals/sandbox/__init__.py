"""Run untrusted programs (model output) in a sandbox; the client side of evals/sandbox/worker.py.

    with SandboxWorker(SandboxLimits(timeout_s=3)) as w:
        w.run({"kind": "python", "code": "def f(): return 1", "test": "assert f() == 1"})
    sandbox_protections()   # {"network_namespace": True, "pid_namespace": True, ...}

A SandboxWorker is one warm worker process started inside fresh namespaces (`unshare -n -p -f
-m --mount-proc --kill-child`, the first variant that works here) with a scrubbed environment.
The worker forks a child per program; see worker.py for what the child gets (own
process group, rlimits, fresh work dir on a size-capped tmpfs, stdin closed, output capped,
unprivileged uid, wall-clock SIGKILL, nonce sentinel). If the worker itself dies or hangs, the
client kills its whole process group, reports an `error` verdict and starts a new one.

Fails closed: a worker that cannot set up the minimum protections (MINIMUM_PROTECTIONS: no
network, own pid namespace, a private read-only root with only the toolchains) refuses to run
anything (WeakSandbox) unless the caller opted in explicitly with `SandboxLimits(allow_weak=True)`
(`--allow-weak-sandbox` in the CLI, a checkbox with a warning in the UI, recorded in the eval's
params). Without any namespace launcher it never silently runs programs as the app's user.

Hosted mode (pipeline.hosted: SPACE_ID or STUDIO_HOSTED=1): nothing runs unless the owner sets
STUDIO_ALLOW_CODE_EXECUTION=1; `require_execution_allowed` raises CodeExecutionDisabled.

Threat model. The programs are model output: mostly honest, sometimes broken, occasionally
written (by a model that has seen harnesses) to look right. What is protected, and how:
  * the host: no network, own pid namespace, rlimits, wall-clock kill, unprivileged uid with
    no_new_privs, scrubbed environment; the filesystem is a new root (mounts.py) holding only
    the program's work dir and the toolchains (/usr, Python, rustup, .toolchains, the /etc
    entries compilers read): homes, the studio's data, the checkout, the host's /etc and every
    other file are absent, and all but the private size-capped /tmp is read-only. The validity
    compile level runs its compilers in the same workers, so `#include`/`include!` of a host
    file finds nothing.
  * the verdict, Python: the solution and the tests are two processes (child.py); the pass
    report comes from the test process, which never runs answer code and alone holds the
    run's nonce. The test sees the task's own definitions (the prompt, run in the test
    process) and the answer's entry point, nothing else of the answer's: defining `abs`,
    `sorted`, `len` or the prompt's helper does not change what the test's names mean.
  * the verdict, other languages: one process runs answer and tests, and passes only by
    printing the run's nonce after the tests and exiting 0. The nonce reaches it on a stdin
    pipe that our entry point drains before any answer code runs: it is in no source file,
    binary, class file, environment variable, command line or open file, so reading those
    (or /proc/self/exe, cmdline, environ, fd) finds nothing to forge with.
Not protected, and why: kernel exploits (use a VM for hostile code at scale); in the
one-process languages, a program written against this harness's internals — native code
searching its own memory for the nonce (C++, Rust, Go, Java via Unsafe), or running before our
entry point (C++ static initialisers, Go `init`) to drain stdin first — can still forge a pass:
nothing inside one process can keep a secret from code that shares its memory; only the Python
path separates them. The wall clock and rlimits bound the damage, not the verdict.
"""
from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.errors import StudioError

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# Tried in order; the first that runs `true` is used. The second works for non-root users where
# unprivileged user namespaces are allowed (then no uid drop is possible).
LAUNCHERS = (
    ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child"],
    ["unshare", "--map-root-user", "--net", "--pid", "--fork", "--mount", "--mount-proc",
     "--kill-child"],
    ["unshare", "--net"],
)
SAFE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
PROTECTION_LABELS = {
    "process_group": "own process group per program",
    "wall_clock_kill": "wall-clock deadline (SIGKILL)",
    "rlimits": "rlimits: CPU seconds, address space, processes, file size",
    "fresh_workdir": "fresh temporary work dir",
    "stdin_closed": "stdin closed",
    "output_cap": "output capped",
    "env_scrubbed": "environment scrubbed of secrets",
    "network_namespace": "no network (network namespace)",
    "pid_namespace": "pid namespace (fork bombs and daemons contained)",
    "unprivileged_uid": "runs as an unprivileged uid",
    "private_filesystem": "only the program's files and the toolchains visible, read-only; private size-capped /tmp",
    "sentinel": "pass only when the tests ran to their end",
}


class CodeExecutionDisabled(StudioError):
    """Running model-written code is switched off here (hosted mode); the message says how to enable."""


class SandboxError(StudioError):
    """The sandbox worker cannot be started; the message says why."""


class WeakSandbox(SandboxError):
    """The minimum protections are missing here and nobody opted in to running without them."""


MINIMUM_PROTECTIONS = ("network_namespace", "pid_namespace", "private_filesystem")


@dataclass
class SandboxLimits:
    timeout_s: float = field(default=3.0, metadata={"help": "wall-clock seconds per test run"})
    compile_timeout_s: float = field(default=60.0, metadata={"help": "seconds per compile step"})
    memory_mb: int = field(default=1024, metadata={"help": "address-space limit per program (MiB)"})
    max_processes: int = field(default=64, metadata={"help": "processes/threads per program"})
    max_file_mb: int = field(default=16, metadata={"help": "largest file (and output) a program may write (MiB)"})
    output_kb: int = field(default=16, metadata={"help": "program output kept for the report (KiB)"})
    disk_mb: int = field(default=256, metadata={"help": "tmpfs size per worker (MiB)"})
    allow_weak: bool = field(default=False, metadata={
        "help": "run even when the minimum protections (no network, pid namespace, private filesystem) "
                "cannot be set up here; programs may then reach the network and your files"})

    def for_run(self, **overrides: float) -> dict:
        limits = {"timeout_s": self.timeout_s, "memory_mb": self.memory_mb,
                  "max_processes": self.max_processes, "max_file_mb": self.max_file_mb,
                  "output_limit": self.output_kb * 1024}
        limits.update(overrides)
        return limits

    def to_dict(self) -> dict:
        return asdict(self)


def execution_allowed(env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(allowed, why) for this server (STUDIO_ALLOW_CODE_EXECUTION); who may run code is the gate's
    (pipeline.access, capability RUN_CODE)."""
    from pipeline.access import code_execution_flag

    return code_execution_flag(env)


def require_execution_allowed(env: Mapping[str, str] | None = None) -> None:
    allowed, why = execution_allowed(env)
    if not allowed:
        raise CodeExecutionDisabled(why)


@lru_cache(maxsize=1)
def namespace_launcher() -> tuple[str, ...]:
    """The first isolation prefix that works on this machine ('' when none does)."""
    for argv in LAUNCHERS:
        try:
            ok = subprocess.run([*argv, "true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return tuple(argv)
    return ()


def _keep_paths() -> list[str]:
    """Directories the sandbox's new root holds besides /usr: Python, the pass@k toolchain roots
    and the folders of the validity compilers found elsewhere (a godot binary in /opt, say)."""
    from evals.passk.languages import toolchain_roots

    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    paths.update(toolchain_roots())
    try:
        from evals.validity.compilers import available_toolchains
    except ImportError:
        return sorted(paths)
    for language, exe in available_toolchains().items():
        if language == "python" or not os.path.isabs(exe) or language == "rust":
            continue   # in-process; rustc runs from its sysroot (a toolchain root above)
        folder = os.path.dirname(os.path.realpath(exe))
        if not folder.startswith("/usr/") and folder not in ("/bin", "/sbin"):
            paths.add(folder)
    return sorted(paths)


class SandboxWorker:
    """One warm worker; `run(job)` executes one program and returns its result dict."""

    def __init__(self, limits: SandboxLimits | None = None):
        self.limits = limits or SandboxLimits()
        self.proc: subprocess.Popen | None = None
        self.protections: dict[str, bool] = {}
        self.setup_error: str | None = None
        self.uid = random.randrange(1_000_000, 2_000_000_000)
        self._lock = threading.Lock()
        self._buffer = b""

    def __enter__(self) -> SandboxWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        from pipeline import access

        s = access.scope()
        if not (s and s.housekeeping):
            access.require(access.Cap.RUN_CODE, access.Target(weak_sandbox=self.limits.allow_weak,
                                                              what="start the sandbox"))
            access.reached(access.Cap.RUN_CODE)
        launcher = namespace_launcher()
        if not launcher and not self.limits.allow_weak:
            raise WeakSandbox(missing_protections_message(list(MINIMUM_PROTECTIONS), "no `unshare` variant works"))
        config = {"uid": self.uid, "disk_mb": self.limits.disk_mb, "keep": _keep_paths(),
                  "env_allowed": sorted(SAFE_ENV)}
        argv = [*launcher, sys.executable, "-I", "-S", str(WORKER_SCRIPT),
                json.dumps(config)]
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, env=dict(SAFE_ENV),
                                         start_new_session=True, cwd="/")
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox worker: {exc}") from exc
        self._buffer = b""
        hello = self._read_line(timeout=30)
        if not hello or "hello" not in hello:
            self.close()
            raise SandboxError("the sandbox worker did not start (is `unshare` usable here?)")
        self.protections = hello["hello"]
        self.setup_error = hello.get("setup_error")
        missing = [p for p in MINIMUM_PROTECTIONS if not self.protections.get(p)]
        if missing and not self.limits.allow_weak:
            self.close()
            raise WeakSandbox(missing_protections_message(missing, self.setup_error))

    def run(self, job: dict) -> dict:
        """Send one job; never raises for the program's sake (a dead worker is restarted)."""
        with self._lock:
            if self.proc is None or self.proc.poll() is not None:
                self.start()
            budget = sum(step["limits"]["timeout_s"] for step in job.get("steps", [])) \
                or job.get("limits", {}).get("timeout_s", self.limits.timeout_s)
            proc = self.proc
            assert proc is not None and proc.stdin is not None  # start() opened it with pipes
            try:
                proc.stdin.write(json.dumps(job).encode() + b"\n")
                proc.stdin.flush()
                result = self._read_line(timeout=budget + 30)
            except (BrokenPipeError, OSError):
                result = None
            if result is None:
                code = proc.poll()
                self.close()
                return {"status": "error", "duration_s": None, "error":
                        "the sandbox worker died or hung while running this program "
                        f"(exit {code}); it was restarted"}
            return result

    def _read_line(self, timeout: float) -> dict | None:
        """One JSON line from the worker, or None on EOF or when `timeout` passes."""
        deadline = time.monotonic() + timeout
        assert self.proc is not None and self.proc.stdout is not None  # start() opened it with pipes
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict = json.loads(line)
        return message

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None  # start() opened it with pipes
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        proc.stdout.close()


def missing_protections_message(missing: list[str], why: str | None) -> str:
    labels = "; ".join(PROTECTION_LABELS[p] for p in missing)
    return (f"refusing to run model-written code: the sandbox cannot set up {labels}"
            f"{f' ({why})' if why else ''}. Run the studio where `unshare` works (as root, or with "
            "unprivileged user namespaces enabled), or opt in explicitly with --allow-weak-sandbox / "
            "the 'Run without the full sandbox' checkbox — programs may then use the network and read your files")


@lru_cache(maxsize=1)
def _probe() -> tuple[dict, str | None]:
    if not namespace_launcher():
        return {key: key not in MINIMUM_PROTECTIONS + ("unprivileged_uid",) for key in PROTECTION_LABELS}, \
            "no namespace launcher works here"
    from pipeline import access

    worker = SandboxWorker(SandboxLimits(allow_weak=True))
    try:
        with access.housekeeping():   # the studio checking its own sandbox: no model-written code runs
            worker.start()
        return dict(worker.protections), worker.setup_error
    finally:
        worker.close()


def sandbox_protections() -> dict[str, bool]:
    """Which protections a program gets on this machine (probed once per process)."""
    return dict(_probe()[0])


def describe_protections() -> list[tuple[str, bool]]:
    """(label, active) rows for the UI and the CLI."""
    active = sandbox_protections()
    return [(label, bool(active.get(key))) for key, label in PROTECTION_LABELS.items()]


def missing_minimum() -> list[str]:
    """The minimum protections this machine lacks (empty: execution runs without an opt-in)."""
    active = sandbox_protections()
    return [PROTECTION_LABELS[p] for p in MINIMUM_PROTECTIONS if not active.get(p)]


def wait_for_uid_clear(uid: int, timeout: float = 5.0) -> bool:
    """True once no process runs as `uid` (tests use it to prove nothing outlived a sample)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(uid in (p.info["uids"] or ()) for p in psutil.process_iter(["uids"])):
            return True
        time.sleep(0.05)
    return False
