"""What the sandbox worker reads back after a program ran: the report pipe, the capped output
file and why a program ended early. Stdlib only (imported by worker.py, which runs with -I -S)."""
from __future__ import annotations

import os
import select
import signal

from child import RESULT_LIMIT


def read_all(fd: int) -> str:
    chunks, size = [], 0
    while size < RESULT_LIMIT:
        r, _, _ = select.select([fd], [], [], 0)
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def read_output(workdir: str, limit: int) -> str:
    path = os.path.join(workdir, "output.txt")
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size <= limit:
                return fh.read().decode("utf-8", "replace")
            head = fh.read(limit // 2)
            fh.seek(size - limit // 2)
            tail = fh.read()
        return (head.decode("utf-8", "replace") + f"\n…[{size - limit} bytes cut]…\n"
                + tail.decode("utf-8", "replace"))
    except OSError:
        return ""


def read_tail(workdir: str, n: int) -> str:
    path = os.path.join(workdir, "output.txt")
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - n))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def early_exit_reason(status: int, output: str, early: bool = True) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        known: dict[int, str] = {signal.SIGXCPU: "CPU time limit exceeded", signal.SIGXFSZ: "file size limit exceeded",
                                 signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                                 signal.SIGABRT: "aborted"}
        why = known.get(sig, signal.Signals(sig).name)
        reason = f"terminated by signal {sig} ({why})"
    else:
        code = os.WEXITSTATUS(status)
        reason = (f"exited with code {code} before the tests finished" if early
                  else f"exited with code {code} without reaching the end of the tests")
    tail = output.strip()[-1500:]
    return reason + (f":\n{tail}" if tail else "")
