"""The warm sandbox worker: runs untrusted programs, one at a time, inside the namespaces.

Started by evals/sandbox.py as `unshare -n -p -f -m --mount-proc --kill-child python -I -S
worker.py CONFIG_JSON`, so it is PID 1 of a fresh pid namespace with no network and a
private mount table. It imports only the standard library (it runs with -S, no site-packages)
and speaks line-delimited JSON on the pipes it was started with: one `hello` line with the
protections it could set up, then one result line per request line.

Per program it forks a child that puts itself in its own process group, sets rlimits (CPU, AS,
NPROC, FSIZE, NOFILE, CORE), moves into a fresh work dir on a size-capped tmpfs, closes stdin,
sends stdout/stderr to a file (the file-size limit caps it), drops to an unprivileged uid with
no_new_privs (what `setpriv --reuid` does, minus an exec per sample), and then either runs
Python in-process (the fork is the warm interpreter: no new interpreter per sample) or execs a
compiler / runtime. The worker enforces the wall-clock
deadline with SIGKILL, and afterwards kills every other process in the namespace (daemons that
left the process group included) and reaps them, so nothing outlives a sample.

A Python run passes only when the *test* process reports the per-run nonce after the tests
returned; the solution runs in a separate process that never holds the nonce (child.py), so
exiting early, patching helpers or reading frames and memory cannot forge a pass. The other
languages decide in one process: the program's entry point (ours) reads the nonce from a stdin
pipe before any answer code runs and prints it after the tests, so it is in no source, binary,
file, fd, environment or command line the answer could read (see evals/sandbox/__init__.py for
what that does not cover). Not protected against: kernel exploits.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import sys
import time
from collections.abc import Collection, Iterator
from typing import Any

# -I (isolated mode) leaves the script's own directory off sys.path; our two helpers live there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import parse_reports, solution_server, test_client
from mounts import probe_network_isolated, setup_filesystem
from outputs import early_exit_reason as _early_exit_reason
from outputs import read_all as _read_all
from outputs import read_output as _read_output
from outputs import read_tail as _read_tail

# Imported before the first sample so tests find them warm (and restorable, see child.py).
PRELOAD = ("math", "re", "string", "itertools", "collections", "functools", "heapq", "bisect",
           "random", "hashlib", "typing", "fractions", "decimal", "statistics", "datetime",
           "copy", "operator", "json", "array", "time", "unittest", "cmath", "numbers", "enum",
           "dataclasses", "textwrap", "struct", "io", "traceback", "abc", "contextlib")
for _name in PRELOAD:
    __import__(_name)

PR_SET_NO_NEW_PRIVS = 38
WORK_ROOT = "/tmp/studio-work"

_libc = ctypes.CDLL(None, use_errno=True)


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.uid = int(config["uid"])
        self.is_init = os.getpid() == 1
        self.protections = {"process_group": True, "wall_clock_kill": True, "rlimits": True,
                            "fresh_workdir": True, "stdin_closed": True, "output_cap": True,
                            "env_scrubbed": not any(k for k in os.environ
                                                    if k not in config.get("env_allowed", [])),
                            "sentinel": True, "pid_namespace": self.is_init,
                            "network_namespace": probe_network_isolated(),
                            "private_filesystem": False, "unprivileged_uid": False}
        self.setup_error: str | None = None
        if self.is_init and os.geteuid() == 0:
            try:
                setup_filesystem(config)
                self.protections["private_filesystem"] = True
            except OSError as exc:
                self.setup_error = str(exc)
        os.makedirs(WORK_ROOT, exist_ok=True)
        os.chmod(WORK_ROOT, 0o711)
        # Root in a user namespace (the non-root fallback) cannot switch to an unmapped uid.
        self.drop_uid = os.geteuid() == 0 and self._probe_uid_drop()
        self.protections["unprivileged_uid"] = self.drop_uid
        self.counter = 0

    def _probe_uid_drop(self) -> bool:
        pid = os.fork()
        if pid == 0:
            try:
                _drop_privileges(self.uid)
                os._exit(0 if os.getuid() == self.uid and os.geteuid() == self.uid else 1)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

    # -- one request ----------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> dict[str, Any]:
        self.counter += 1
        workdir = os.path.join(WORK_ROOT, str(self.counter))
        os.mkdir(workdir, 0o700)
        if self.drop_uid:
            os.chown(workdir, self.uid, self.uid)
        started = time.monotonic()
        try:
            if job["kind"] == "python":
                result = self.run_python(job, workdir)
            else:
                result = self.run_steps(job, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        result["duration_s"] = round(time.monotonic() - started, 4)
        return result

    def run_python(self, job: dict[str, Any], workdir: str) -> dict[str, Any]:
        """The solution and the tests in two forked processes (see child.py): the verdict comes
        from the test process, which holds the nonce and never runs the solution's code."""
        solution_end, test_end = socket.socketpair()
        server = os.fork()
        if server == 0:
            try:
                test_end.close()
                self._enter_sandbox(workdir, job["limits"], keep_fds={solution_end.fileno()})
                solution_server(job["code"], solution_end.fileno())
            finally:
                os._exit(70)
        solution_end.close()
        nonce = secrets.token_hex(16)  # made after the solution's fork: never in its memory
        read_fd, write_fd = os.pipe()
        # Another uid and dir for the tests: the solution cannot signal, trace or touch them.
        test_dir, test_uid = workdir + ".tests", self.uid + 1
        os.mkdir(test_dir, 0o700)
        if self.drop_uid:
            os.chown(test_dir, test_uid, test_uid)
        tester = os.fork()
        if tester == 0:
            try:
                os.close(read_fd)
                self._enter_sandbox(test_dir, job["limits"], keep_fds={test_end.fileno(), write_fd}, uid=test_uid)
                test_client(job["test"], test_end.fileno(), write_fd, nonce, job.get("prompt"),
                            job.get("entry_point"), job.get("expose") or ())
            finally:
                os._exit(70)
        os.close(write_fd)
        test_end.close()
        status, timed_out = self._wait(tester, job["limits"]["timeout_s"])
        _killpg(server)  # the solution's process serves until the tests end: not a stray
        os.waitpid(server, 0)
        strays = self._kill_everything(tester)
        report = _read_all(read_fd)
        os.close(read_fd)
        output = _read_output(workdir, job["limits"]["output_limit"]) \
            + _read_output(test_dir, job["limits"]["output_limit"])
        shutil.rmtree(test_dir, ignore_errors=True)
        result: dict[str, Any] = {"strays_killed": strays, "output": output, "stage": "run"}
        if timed_out:
            return dict(result, status="timeout",
                        error=f"timed out after {job['limits']['timeout_s']}s (killed)")
        reports = parse_reports(report, nonce)
        failed = [r for r in reports if r["status"] != "passed"]
        if reports and not failed:
            return dict(result, status="passed", error=None)
        if failed:
            return dict(result, status="failed", error=failed[0]["error"],
                        failing_test=failed[0]["failing_test"])
        return dict(result, status="failed", error=_early_exit_reason(status, output))

    def run_steps(self, job: dict[str, Any], workdir: str) -> dict[str, Any]:
        """Compile-and-run programs: every step is an exec'd process under the same limits."""
        nonce = secrets.token_hex(16)  # never written to a file: the last step reads it on stdin
        for name, content in job["files"].items():
            path = os.path.join(workdir, name)
            with open(path, "w") as fh:
                fh.write(content)
            if self.drop_uid:
                os.chown(path, self.uid, self.uid)
        strays = 0
        steps = job["steps"]
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if last:
                for name in job.get("remove_before_run", []):
                    try:
                        os.unlink(os.path.join(workdir, name))
                    except OSError:
                        pass
            limits = step["limits"]
            stdin_fd = None
            if last and job.get("nonce_stdin"):
                # A pipe the program's own entry point drains before any of the answer's code
                # runs: afterwards the nonce is in no file, no fd, no env and no command line.
                stdin_fd, feed = os.pipe()
                os.write(feed, (nonce + "\n").encode())
                os.close(feed)
            pid = os.fork()
            if pid == 0:
                try:
                    self._enter_sandbox(workdir, limits, stdin_fd=stdin_fd)
                    for sig in (signal.SIGXFSZ, signal.SIGPIPE):  # Python ignores them; programs should not
                        signal.signal(sig, signal.SIG_DFL)
                    env = dict(job["env"], HOME=workdir, TMPDIR=workdir)
                    os.execve(step["argv"][0], step["argv"], env)
                except BaseException as exc:
                    os.write(2, f"cannot start {step['argv'][0]}: {exc}\n".encode())
                finally:
                    os._exit(127)
            if stdin_fd is not None:
                os.close(stdin_fd)
            status, timed_out = self._wait(pid, limits["timeout_s"])
            strays += self._kill_everything(pid)
            output = _read_output(workdir, limits["output_limit"])
            base: dict[str, Any] = {"strays_killed": strays, "output": output, "stage": step["name"]}
            if timed_out:
                return dict(base, status="timeout",
                            error=f"{step['name']} timed out after {limits['timeout_s']}s (killed)")
            if not last:
                if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                    return dict(base, status="failed", error=f"{step['name']} failed:\n{output[-2000:]}")
                os.unlink(os.path.join(workdir, "output.txt"))
                continue
            exited_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if exited_ok and f"\n{nonce}\n" in _read_tail(workdir, 4096):
                return dict(base, status="passed", error=None)
            return dict(base, status="failed", error=_early_exit_reason(status, output, early=False))
        return {"status": "error", "error": "no steps to run"}

    # -- process control ------------------------------------------------------------------
    def _enter_sandbox(self, workdir: str, limits: dict[str, Any], keep_fds: Collection[int] = frozenset(),
                       uid: int | None = None, stdin_fd: int | None = None) -> None:
        os.setpgid(0, 0)
        os.chdir(workdir)
        os.environ["TMPDIR"] = os.environ["HOME"] = workdir
        cpu = int(limits["timeout_s"]) + 1
        for res, value in ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
                           (resource.RLIMIT_AS, (limits["memory_mb"] << 20,) * 2),
                           (resource.RLIMIT_NPROC, (limits["max_processes"],) * 2),
                           (resource.RLIMIT_FSIZE, (limits["max_file_mb"] << 20,) * 2),
                           (resource.RLIMIT_NOFILE, (256, 256)),
                           (resource.RLIMIT_CORE, (0, 0))):
            resource.setrlimit(res, value)
        os.dup2(os.open("/dev/null", os.O_RDONLY) if stdin_fd is None else stdin_fd, 0)
        for fd in _open_fds():  # the protocol pipes and anything else the worker holds
            if fd > 2 and fd not in keep_fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.drop_uid:
            _drop_privileges(uid or self.uid)
        out = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)

    def _wait(self, pid: int, timeout_s: float) -> tuple[int, bool]:
        """(wait status, timed_out): SIGKILL the child's group at the wall-clock deadline."""
        pidfd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], timeout_s)
        finally:
            os.close(pidfd)
        if not ready:
            _killpg(pid)
            _, status = os.waitpid(pid, 0)
            return status, True
        _, status = os.waitpid(pid, 0)
        return status, False

    def _kill_everything(self, pid: int) -> int:
        """Kill and reap whatever the program left behind; returns how many there were."""
        _killpg(pid)
        strays = 0
        if self.is_init:
            for _ in range(100):  # a fork bomb may still be forking while we kill
                try:
                    os.kill(-1, signal.SIGKILL)  # PID 1: everyone in our namespace but us
                except ProcessLookupError:
                    pass
                reaped = _reap()
                strays += reaped
                if not reaped:
                    break
        elif self.drop_uid:
            strays = _kill_uid(self.uid)
        return strays


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap() -> int:
    n = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            return n
        if pid:
            n += 1


def _kill_uid(uid: int) -> int:
    """Without a pid namespace: find the sandbox uid's live processes in /proc and kill them."""
    killed: set[int] = set()
    for _ in range(50):
        found = list(_live_pids_of(uid))
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        time.sleep(0.01)
    return len(killed)


def _live_pids_of(uid: int) -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if str(uid) in fields.get("Uid", "").split() and not fields.get("State", "").strip().startswith("Z"):
            yield int(entry)


def _open_fds() -> list[int]:
    try:
        return [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))


def main() -> None:
    config = json.loads(sys.argv[1])
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    worker = Worker(config)
    hello = {"hello": worker.protections, "pid": os.getpid(), "setup_error": worker.setup_error}
    proto_out.write(json.dumps(hello).encode() + b"\n")
    proto_out.flush()
    for line in proto_in:
        job = json.loads(line)
        try:
            result = worker.handle(job)
        except Exception as exc:  # a harness fault: report it, keep serving
            result = {"status": "error", "error": f"sandbox worker: {type(exc).__name__}: {exc}"}
        result["id"] = job.get("id")
        proto_out.write(json.dumps(result).encode() + b"\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
