"""Issue 22, item 3 (execution side): a program sees only its own files and the toolchains. A file
outside the homes, /tmp and STUDIO_HOME (here: in the checkout) and the host's /etc are absent."""
from __future__ import annotations

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


def still_works(worker) -> None:
    assert worker.run(build_job("python", "def f():\n    return 1\n", "assert f() == 1\n", LIMITS))["status"] == "passed"


def test_a_checkout_file_is_not_readable(worker):
    canary = ROOT / ".sandbox-canary.txt"
    canary.write_text("zebracanary_py_4711\n")
    try:
        code = f"def f():\n    return open({str(canary)!r}).read().strip()\n"
        result = worker.run(build_job("python", code, "assert f() == 'zebracanary_py_4711'\n", LIMITS))
    finally:
        canary.unlink()
    assert result["status"] == "failed" and "FileNotFoundError" in result["error"]
    still_works(worker)


def test_only_toolchain_entries_of_etc_are_visible(worker):
    code = "import os\ndef f():\n    return sorted(os.listdir('/etc'))\n"
    test = "assert not {'hostname', 'hosts', 'os-release', 'shadow', 'group'} & set(f()), f()\n"
    assert worker.run(build_job("python", code, test, LIMITS))["status"] == "passed"
    still_works(worker)
