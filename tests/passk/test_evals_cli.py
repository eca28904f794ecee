"""`python -m evals passk …` as a person runs it: real subprocesses on a temp STUDIO_HOME."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from evals.passk.suites import humaneval_tasks

ROOT = Path(__file__).resolve().parents[2]
TASKS = {t["task_id"]: t for t in humaneval_tasks()[:3]}


def evals_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "evals", "passk", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def write_samples(path: Path, wrong: set[str]) -> Path:
    with open(path, "w") as fh:
        for task_id, task in TASKS.items():
            completion = "    return None\n" if task_id in wrong else task["canonical_solution"]
            fh.write(json.dumps({"task_id": task_id, "completion": completion}) + "\n")
    return path


def test_scoring_a_samples_file_writes_a_verdict_per_sample_and_prints_pass_at_k(tmp_path):
    samples = write_samples(tmp_path / "samples.jsonl", wrong={"HumanEval/2"})
    out = evals_cli(tmp_path, "--samples", str(samples), "--k", "1")
    assert out.returncode == 0, out.stderr
    assert '"pass@1": 0.666667' in out.stdout
    results = [json.loads(line) for line in (tmp_path / "samples_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, True, False]
    assert results[2]["result"].startswith("failed: ")
    assert results[0]["completion"] == TASKS["HumanEval/0"]["canonical_solution"]


def test_a_missing_samples_file_is_one_clear_error(tmp_path):
    out = evals_cli(tmp_path, "--samples", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {tmp_path / 'nope.jsonl'} does not exist"


def test_saved_runs_are_listed_and_compared(tmp_path):
    before = write_samples(tmp_path / "before.jsonl", wrong={"HumanEval/1"})
    after = write_samples(tmp_path / "after.jsonl", wrong={"HumanEval/2"})
    assert evals_cli(tmp_path, "--samples", str(before), "--save", "base").returncode == 0
    assert evals_cli(tmp_path, "--samples", str(after), "--save", "tuned").returncode == 0
    listing = evals_cli(tmp_path, "list").stdout
    assert "base" in listing and "tuned" in listing and "pass@1 0.667" in listing
    compared = evals_cli(tmp_path, "compare", "1", "2")
    assert "fixed in 2 (1): HumanEval/1" in compared.stdout
    assert "broken in 2 (1): HumanEval/2" in compared.stdout


def test_a_suite_file_is_imported_and_listed(tmp_path):
    suite = tmp_path / "tiny.jsonl"
    suite.write_text(json.dumps({"task_id": "Tiny/0", "prompt": "def one():\n", "entry_point": "one",
                                 "test": "def check(f):\n    assert f() == 1\n",
                                 "canonical_solution": "    return 1\n"}) + "\n")
    out = evals_cli(tmp_path, "import", str(suite))
    assert out.returncode == 0, out.stderr
    assert "imported suite tiny: 1 python tasks (humaneval shape)" in out.stdout
    assert "tiny" in evals_cli(tmp_path, "suites").stdout


def test_the_per_sample_drill_down_has_a_cli_twin(tmp_path):
    samples = write_samples(tmp_path / "s.jsonl", wrong={"HumanEval/2"})
    assert evals_cli(tmp_path, "--samples", str(samples), "--save", "run").returncode == 0
    tasks = evals_cli(tmp_path, "tasks", "1")
    assert tasks.returncode == 0, tasks.stderr
    assert tasks.stdout.splitlines()[0].startswith("HumanEval/2")   # never-passed tasks first
    sample = evals_cli(tmp_path, "sample", "1", "HumanEval/2")
    assert sample.returncode == 0, sample.stderr
    assert "HumanEval/2 sample 0 of 1: failed" in sample.stdout
    assert "--- program that ran ---" in sample.stdout and "return None" in sample.stdout
    missing = evals_cli(tmp_path, "sample", "1", "HumanEval/2", "--sample-idx", "5")
    assert missing.returncode == 2
    assert "has no sample 5 for task 'HumanEval/2'" in missing.stderr
