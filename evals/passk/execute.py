"""Score samples by running them: a warm pool of sandbox workers, parallel across cores.

    with ExecutionPool(workers=2) as pool:
        verdicts = execute_samples(tasks, samples, pool=pool)   # one verdict per sample

`tasks` maps task_id -> task dict (language, prompt, test, entry_point, meta.extended_test;
meta.expose: other answer functions a Python test calls — by default it sees only the task's
own definitions and the entry point; HumanEvalPack's test_setup/import/declaration, see
suite_fields.py);
a sample is {task_id, completion, mode?} with mode "continuation" (prompt + completion, the
human-eval format) or "full" (the completion is a whole program, e.g. from a chat reply).
Identical programs are executed once and their verdict shared (models repeat themselves a lot
at low temperature). Where a task has extended tests (evalplus style) they run as a second,
separate program, so the base verdict stays comparable with other harnesses.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator

from evals.passk.languages import ToolchainMissing, build_job, normalize_language, solution_code
from evals.sandbox import SandboxLimits, SandboxWorker, require_execution_allowed

VERDICTS = ("passed", "failed", "timeout", "error")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class ExecutionPool:
    """N warm SandboxWorkers; `map(jobs)` yields (index, result) as programs finish."""

    def __init__(self, workers: int | None = None, limits: SandboxLimits | None = None):
        require_execution_allowed()
        self.limits = limits or SandboxLimits()
        self.size = workers or default_workers()
        self.workers: list[SandboxWorker] = []
        self.executed = 0   # programs actually run (after de-duplication)

    def __enter__(self) -> ExecutionPool:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self.workers:
            return
        workers = [SandboxWorker(self.limits) for _ in range(self.size)]
        errors: list[Exception] = []

        def boot(w: SandboxWorker) -> None:
            try:
                w.start()
            except Exception as exc:  # collected and re-raised below, after all have tried
                errors.append(exc)

        # Started in the caller's context: the gate (pipeline.access) sees who asked for the sandbox.
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(boot, w)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for w in workers:
                w.close()
            raise errors[0]
        self.workers = workers

    @property
    def protections(self) -> dict[str, bool]:
        self.start()
        return dict(self.workers[0].protections)

    def close(self) -> None:
        for w in self.workers:
            w.close()
        self.workers = []

    def map(self, jobs: list[dict | Exception], dedupe: bool = True) -> Iterator[tuple[int, dict]]:
        """Run jobs (an Exception in the list becomes an `error` result without running);
        identical jobs run once unless `dedupe` is False (benchmarks measure both)."""
        self.start()
        by_key: dict[str, list[int]] = {}
        todo: queue.Queue = queue.Queue()
        done: queue.Queue = queue.Queue()
        for i, job in enumerate(jobs):
            if isinstance(job, Exception):
                yield i, {"status": "error", "error": str(job), "duration_s": None}
                continue
            key = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest() if dedupe \
                else str(i)
            if key not in by_key:
                by_key[key] = []
                todo.put((key, job))
            by_key[key].append(i)
        for _ in self.workers:
            todo.put(None)

        def serve(worker: SandboxWorker) -> None:
            while (item := todo.get()) is not None:
                key, job = item
                try:
                    done.put((key, worker.run(job)))
                except Exception as exc:  # the worker could not even be restarted
                    done.put((key, {"status": "error", "error": f"sandbox: {exc}", "duration_s": None}))

        threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in self.workers]
        for t in threads:
            t.start()
        try:
            for _ in range(len(by_key)):
                key, result = done.get()
                self.executed += 1
                for i in by_key[key]:
                    yield i, result
        finally:  # also when the caller stops early (a cancelled job): drop what is queued
            while True:
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break
            for _ in self.workers:
                todo.put(None)
            for t in threads:
                t.join()


def sample_jobs(tasks: dict[str, dict], samples: list[dict], limits: SandboxLimits,
                extended: bool = False) -> list[dict | Exception]:
    """One sandbox job per sample (base tests, or the extended tests when `extended`)."""
    jobs: list[dict | Exception] = []
    for s in samples:
        task = tasks.get(str(s["task_id"]))
        if task is None:
            jobs.append(KeyError(f"task {s['task_id']!r} is not in this suite"))
            continue
        test = (task.get("meta") or {}).get("extended_test") if extended else task.get("test")
        if not test:
            jobs.append(ValueError("no extended tests") if extended else
                        ValueError(f"task {s['task_id']} has no test code"))
            continue
        language = normalize_language(task.get("language"))
        code = solution_code(language, task["prompt"], s.get("completion") or "",
                             s.get("mode") or "continuation")
        try:
            jobs.append(build_job(language, code, test, limits, task=task))
        except ToolchainMissing as exc:
            jobs.append(exc)
    return jobs


def execute_samples(tasks: dict[str, dict], samples: list[dict], *,
                    pool: ExecutionPool | None = None, limits: SandboxLimits | None = None,
                    workers: int | None = None, dedupe: bool = True,
                    on_progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Verdicts aligned with `samples`: verdict, passed, error, failing_test, duration_s,
    output, and passed_plus/verdict_plus/error_plus where the task has extended tests."""
    own = pool is None
    pool = pool or ExecutionPool(workers, limits)
    limits = pool.limits
    has_plus = [bool((tasks.get(str(s["task_id"])) or {}).get("meta", {}).get("extended_test"))
                for s in samples]
    jobs = sample_jobs(tasks, samples, limits)
    plus_index = [i for i, flag in enumerate(has_plus) if flag]
    jobs += sample_jobs(tasks, [samples[i] for i in plus_index], limits, extended=True)
    verdicts = [{"task_id": s["task_id"], "sample_idx": s.get("sample_idx", 0)} for s in samples]
    try:
        for done, (i, result) in enumerate(pool.map(jobs, dedupe=dedupe), start=1):
            status = result.get("status") if result.get("status") in VERDICTS else "error"
            if i < len(samples):
                verdicts[i].update(verdict=status, passed=status == "passed",
                                   error=result.get("error"), duration_s=result.get("duration_s"),
                                   failing_test=result.get("failing_test"),
                                   output=(result.get("output") or "")[-4000:] or None)
            else:
                target = verdicts[plus_index[i - len(samples)]]
                target.update(verdict_plus=status, passed_plus=status == "passed",
                              error_plus=result.get("error"))
            if on_progress:
                on_progress(done, len(jobs))
    finally:
        if own:
            pool.close()
    return verdicts


def check_validity(tasks: dict[str, dict], samples: list[dict]) -> list[dict] | None:
    """Syntax validity of each sample's solution (evals.validity), or None where it's absent."""
    try:
        from evals.validity import check
    except ImportError:
        return None
    out = []
    for s in samples:
        task = tasks.get(str(s["task_id"]))
        if task is None:
            out.append({"task_id": s["task_id"], "sample_idx": s.get("sample_idx", 0)})
            continue
        language = normalize_language(task.get("language"))
        code = solution_code(language, task["prompt"], s.get("completion") or "",
                             s.get("mode") or "continuation")
        result = check(code, language)
        findings = [f.to_dict() if hasattr(f, "to_dict") else str(f) for f in result.findings]
        out.append({"task_id": s["task_id"], "sample_idx": s.get("sample_idx", 0),
                    "valid": bool(result.valid), "findings": findings})
    return out
