"""Issue 10, failure 9: the sandbox fails closed, and a program cannot forge its own verdict.
One attack per test; each must end in a clear non-pass and leave the worker usable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.passk.languages import build_job
from evals.sandbox import SandboxLimits, SandboxWorker

LIMITS = SandboxLimits(timeout_s=3.0, memory_mb=512)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def worker():
    with SandboxWorker(LIMITS) as w:
        yield w


def run(worker, code: str, test: str = "assert f() == 1\n") -> dict:
    return worker.run(build_job("python", code, test, LIMITS))


def still_works(worker) -> None:
    assert run(worker, "def f():\n    return 1\n")["status"] == "passed"


FORGE_FROM_FRAMES = '''
import os, sys
def f():
    # Walk up to the harness, take its nonce and report fd, write a pass and leave.
    frame = sys._getframe(1)
    while frame is not None:
        loc = frame.f_locals
        if "nonce" in loc:
            FIELD, RECORD = "\\x1f", "\\x1e"
            fd = loc.get("write_fd")
            os.write(fd, f"{loc['nonce']}{FIELD}passed{FIELD}{FIELD}{RECORD}".encode())
            os._exit(0)
        frame = frame.f_back
    return 2
'''


def test_reading_the_nonce_from_the_callers_frame_cannot_forge_a_pass(worker):
    result = run(worker, FORGE_FROM_FRAMES)
    assert result["status"] == "failed" and result["failing_test"] == "assert f() == 1"
    still_works(worker)


FORGE_FROM_MEMORY = '''
import gc, os, re
def f():
    # Search every object in this process for a 32-hex-digit nonce and write passes with each.
    found = set()
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for v in list(obj.values()):
                if isinstance(v, str) and re.fullmatch("[0-9a-f]{32}", v):
                    found.add(v)
    for fd in range(3, 64):
        for nonce in found:
            try:
                os.write(fd, f"{nonce}\\x1fpassed\\x1f\\x1f\\x1e".encode())
            except OSError:
                pass
    os._exit(0)
'''


def test_searching_memory_for_the_nonce_cannot_forge_a_pass(worker):
    result = run(worker, FORGE_FROM_MEMORY)
    assert result["status"] == "failed"
    assert "process ended" in result["error"]
    still_works(worker)


def test_an_object_that_equals_everything_does_not_pass(worker):
    code = ("class Anything:\n    def __eq__(self, other):\n        return True\n"
            "def f():\n    return Anything()\n")
    result = run(worker, code, "assert f() == 1\nassert [f()] == [1]\n")
    assert result["status"] == "failed" and result["failing_test"] == "assert f() == 1", result


def test_plain_results_exceptions_and_objects_cross_between_the_processes(worker):
    code = ("import math\nclass Box:\n    def __init__(self, v):\n        self.v = v\n"
            "    def get(self):\n        return self.v\n"
            "def f(xs, d):\n    return sorted(xs), {k: v * 2 for k, v in d.items()}, (1.5, None, b'x', {3})\n"
            "def g(x):\n    if x < 0:\n        raise ValueError('negative')\n    return math.sqrt(x)\n"
            "def gen(n):\n    yield from range(n)\n")
    test = ("assert f([3, 1, 2], {'a': 1}) == ([1, 2, 3], {'a': 2}, (1.5, None, b'x', {3}))\n"
            "try:\n    g(-1)\nexcept ValueError as e:\n    assert 'negative' in str(e)\nelse:\n    raise AssertionError\n"
            "assert abs(g(4.0) - 2.0) < 1e-9\nassert Box(7).get() == 7 and Box(2).v == 2\n"
            "assert list(gen(3)) == [0, 1, 2]\n")
    result = run(worker, code, test)
    assert result["status"] == "passed", (result["error"], result["failing_test"])


def _in_a_process_without_unshare(script: str, **env) -> subprocess.CompletedProcess:
    """A real interpreter whose PATH has python but no `unshare`: no namespace launcher works."""
    bindir = Path(sys.executable).parent
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PATH=str(bindir), **env))


def test_without_a_namespace_launcher_the_sandbox_refuses_to_run():
    script = ("from evals.sandbox import SandboxWorker, WeakSandbox, missing_minimum\n"
              "try:\n    SandboxWorker().start()\nexcept WeakSandbox as e:\n    print('REFUSED', e)\n"
              "print('MISSING', len(missing_minimum()))\n")
    out = _in_a_process_without_unshare(script)
    assert "REFUSED refusing to run model-written code" in out.stdout, out.stderr
    assert "--allow-weak-sandbox" in out.stdout and "MISSING 3" in out.stdout


def test_running_without_the_minimum_protections_needs_an_explicit_opt_in():
    script = ("import json\nfrom evals.passk.languages import build_job\n"
              "from evals.sandbox import SandboxLimits, SandboxWorker\n"
              "limits = SandboxLimits(allow_weak=True)\n"
              "with SandboxWorker(limits) as w:\n"
              "    r = w.run(build_job('python', 'def f():\\n    return 1\\n', 'assert f() == 1\\n', limits))\n"
              "    print(json.dumps({'status': r['status'], 'net': w.protections['network_namespace']}))\n")
    out = _in_a_process_without_unshare(script)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"status": "passed", "net": False}, out.stderr


def test_the_opt_in_is_a_cli_flag_recorded_with_the_eval():
    from evals.passk.generate import EvalConfig

    help_text = subprocess.run([sys.executable, "-m", "evals", "passk", "run", "--help"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60).stdout
    assert "--allow-weak-sandbox" in help_text
    assert EvalConfig(model="m", allow_weak_sandbox=True).to_dict()["allow_weak_sandbox"] is True
