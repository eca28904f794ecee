"""The sandbox against hostile programs: one attack per test, each must be contained, get a
clear verdict (never a pass), and leave the warm worker able to run the next sample."""
from __future__ import annotations

import os
import select
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from evals.passk.execute import ExecutionPool
from evals.passk.languages import build_job
from evals.sandbox import (
    CodeExecutionDisabled,
    SandboxLimits,
    SandboxWorker,
    execution_allowed,
    require_execution_allowed,
    sandbox_protections,
    wait_for_uid_clear,
)

LIMITS = SandboxLimits(timeout_s=2.0, memory_mb=512, max_file_mb=8, output_kb=8)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def worker():
    with SandboxWorker(LIMITS) as w:
        yield w


def run(worker, code: str, test: str = "assert f() == 1\n") -> dict:
    return worker.run(build_job("python", code, test, LIMITS))


def still_works(worker) -> None:
    result = run(worker, "def f():\n    return 1\n")
    assert result["status"] == "passed", result


def test_all_protections_are_active_here():
    active = sandbox_protections()
    assert all(active.values()), {k: v for k, v in active.items() if not v}


def test_a_correct_program_passes_and_a_wrong_one_fails(worker):
    still_works(worker)
    result = run(worker, "def f():\n    return 2\n")
    assert result["status"] == "failed"
    assert result["failing_test"] == "assert f() == 1"


def test_infinite_loop_is_killed_at_the_deadline(worker):
    result = run(worker, "def f():\n    while True:\n        pass\n")
    assert result["status"] == "timeout"
    assert result["duration_s"] < LIMITS.timeout_s + 1.5
    still_works(worker)


def test_busy_loop_inside_c_is_killed(worker):
    # A huge pow runs in C for minutes: SIGALRM-based harnesses cannot interrupt it.
    result = run(worker, "def f():\n    return pow(10, 10**8) % 7\n")
    assert result["status"] == "timeout"
    assert result["duration_s"] < LIMITS.timeout_s + 1.5
    still_works(worker)


def test_fork_bomb_is_contained_and_cleaned_up(worker):
    assert sandbox_protections()["pid_namespace"] and sandbox_protections()["unprivileged_uid"]
    code = ("import os\ndef f():\n    while True:\n        try:\n            os.fork()\n"
            "        except OSError:\n            pass\n")
    result = run(worker, code)
    assert result["status"] in ("timeout", "failed")
    assert result["strays_killed"] > 0
    assert wait_for_uid_clear(worker.uid, timeout=5)
    still_works(worker)


def test_memory_bomb_fails_with_memory_error(worker):
    result = run(worker, "def f():\n    x = bytearray(8 * 2**30)\n    return 1\n")
    assert result["status"] == "failed"
    assert "MemoryError" in result["error"]
    still_works(worker)


def test_writing_a_10gb_file_is_stopped_by_the_file_size_limit(worker):
    code = ("def f():\n    with open('big.bin', 'wb') as fh:\n        for _ in range(10 * 1024):\n"
            "            fh.write(b'\\0' * 2**20)\n    return 1\n")
    result = run(worker, code)
    assert result["status"] == "failed"
    assert "File too large" in result["error"]
    still_works(worker)


def test_deleting_files_outside_the_work_dir_fails(worker, tmp_path):
    # A world-writable dir the sandbox can see (the repo's ignored cache), the worst case.
    victim_dir = ROOT / ".pytest_cache" / f"evals-victim-{os.getpid()}"
    victim_dir.mkdir(parents=True, exist_ok=True)
    victim_dir.chmod(0o777)
    victim = victim_dir / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o666)
    try:
        code = (f"import os, shutil\ndef f():\n    os.remove({str(victim)!r})\n"
                f"    shutil.rmtree({str(victim_dir)!r})\n    return 1\n")
        result = run(worker, code)
        assert result["status"] == "failed"
        # Read-only where the sandbox sees the path, absent where it hides it (under /tmp):
        # either way nothing outside the work dir can be deleted.
        assert any(why in result["error"] for why in
                   ("Read-only file system", "Permission denied", "No such file or directory"))
        assert victim.read_text() == "keep me"
    finally:
        victim.unlink()
        victim_dir.rmdir()
    still_works(worker)


def test_secrets_in_the_environment_are_not_visible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-4242")
    code = ("import os\ndef f():\n    seen = list(os.environ.values())\n"
            "    for pid in os.listdir('/proc'):\n        try:\n"
            "            seen.append(open(f'/proc/{pid}/environ').read())\n"
            "        except Exception:\n            pass\n"
            "    return any('sk-test-secret-4242' in s for s in seen)\n")
    with SandboxWorker(LIMITS) as fresh:  # started after the secret was set
        result = run(fresh, code, "assert f() is True\n")
    assert result["status"] == "failed"
    assert "sk-test-secret" not in (result["output"] or "") + (result["error"] or "")


def test_sockets_cannot_reach_the_host(worker):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    code = ("import socket\ndef f():\n    for host, port in (('127.0.0.1', %d), ('1.1.1.1', 80)):\n"
            "        try:\n            socket.create_connection((host, port), timeout=0.5)\n"
            "            return True\n        except OSError:\n            pass\n"
            "    return False\n" % port)
    result = run(worker, code, "assert f() is True\n")
    # The kernel completes a TCP handshake before accept(): a connection would be pending now.
    pending = select.select([server], [], [], 0.2)[0]
    server.close()
    assert result["status"] == "failed"
    assert pending == []
    still_works(worker)


def test_killing_the_parent_does_not_stop_the_harness(worker):
    pid_before = worker.proc.pid
    # SIGKILL to the worker, to the namespace's init and to every process it may signal: the
    # test process (another uid) must survive to report the wrong answer.
    code = ("import os, signal\ndef f():\n"
            "    for target in (os.getppid(), 1, -1):\n        try:\n"
            "            os.kill(target, signal.SIGKILL)\n"
            "        except OSError:\n            pass\n    return 2\n")
    result = run(worker, code, "assert f() == 1\n")
    assert result["status"] == "failed"
    assert result["failing_test"] == "assert f() == 1"
    assert worker.proc.pid == pid_before and worker.proc.poll() is None
    still_works(worker)


def test_a_detached_daemon_does_not_outlive_its_sample(worker):
    code = ("import os, time\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n"
            "        if os.fork() == 0:\n            while True:\n                time.sleep(0.05)\n"
            "        os._exit(0)\n    return 2\n")
    result = run(worker, code)
    assert result["status"] == "failed"
    assert result["strays_killed"] >= 1
    assert wait_for_uid_clear(worker.uid, timeout=2)
    still_works(worker)


def test_printing_gigabytes_is_capped(worker):
    start = time.monotonic()
    result = run(worker, "def f():\n    while True:\n        print('x' * 1_000_000)\n")
    assert result["status"] == "failed"
    assert "File too large" in result["error"]
    assert len(result["output"]) <= LIMITS.output_kb * 1024 + 100
    assert time.monotonic() - start < LIMITS.timeout_s + 1.5
    still_works(worker)


def test_sys_exit_before_the_tests_is_not_a_pass(worker):
    result = run(worker, "import sys\nsys.exit(0)\ndef f():\n    return 2\n")
    assert result["status"] == "failed"
    assert "SystemExit" in result["error"]


def test_os_exit_zero_before_the_tests_is_not_a_pass(worker):
    result = run(worker, "import os\nos._exit(0)\ndef f():\n    return 2\n")
    assert result["status"] == "failed"
    assert "process ended before the tests ran" in result["error"]


def test_os_exit_zero_during_the_tests_is_not_a_pass(worker):
    result = run(worker, "import atexit, os\ndef f():\n    os._exit(0)\n")
    assert result["status"] == "failed"


def test_monkeypatched_assert_helpers_do_not_fake_a_pass(worker):
    code = ("import builtins, math\nbuiltins.abs = lambda x: 0\n"
            "math.isclose = lambda *a, **k: True\ndef f(x):\n    return x + 1\n")
    test = "import math\nassert math.isclose(f(2), 2)\nassert abs(f(1) - 1) < 1e-6\n"
    result = run(worker, code, test)
    assert result["status"] == "failed"
    assert result["failing_test"] == "assert math.isclose(f(2), 2)"
    still_works(worker)  # and the patch did not leak into the next sample


def test_hosted_mode_refuses_unless_enabled(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/studio")
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    with pytest.raises(CodeExecutionDisabled, match="STUDIO_ALLOW_CODE_EXECUTION=1"):
        require_execution_allowed()
    with pytest.raises(CodeExecutionDisabled, match="disabled on this hosted studio"):
        ExecutionPool(workers=1)
    monkeypatch.setenv("STUDIO_ALLOW_CODE_EXECUTION", "1")
    assert execution_allowed()[0] is True


def test_a_worker_killed_from_outside_is_replaced_and_the_sample_gets_an_error_verdict():
    with SandboxWorker(LIMITS) as w:
        first_pid = w.proc.pid
        killer = threading.Timer(0.5, lambda: os.killpg(first_pid, signal.SIGKILL))
        killer.start()
        result = run(w, "def f():\n    while True:\n        pass\n")
        killer.join()
        assert result["status"] == "error"
        assert "restarted" in result["error"]
        still_works(w)
        assert w.proc.pid != first_pid
