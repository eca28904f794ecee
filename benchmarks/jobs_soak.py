"""Jobs under faults: 200 random submit / cancel / resume / kill -9 operations over 20 labelling
jobs, against the local OpenAI-compatible server with latency and injected errors (429, 500,
timeouts), interleaved with Resume presses on training runs (from the Train tab and the Jobs tab
at once) and cancel / resume of judge runs whose first verdicts cannot be parsed. Real child
processes, the real store, the real openai client.

    python benchmarks/jobs_soak.py [--ops 200] [--jobs 20] [--snippets 6] [--train-runs 3] [--judge-runs 3] [--seed 10]

Measures what issues 10 and 22 are about: how many processes ever ran one job — and how many
`accelerate launch` processes ever trained one run — at the same time (sampled every 20 ms from
the process table), how many labelling snippets or judge replies the server was paid for more
than the store recorded (a paid reply lost and bought again), and how many jobs are left queued
or running once the operations stop. The soak's training runs have a run.json the trainer
rejects, so each launch lives only as long as `accelerate launch` takes to start and fail: what
counts is whether two of them ever overlap. Targets: max children per job 1 (training launches
per run included), paid twice 0, jobs not in a terminal state 0.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil

from pipeline import jobs
from pipeline.label.labeller import LabelConfig, start_labelling
from pipeline.store import Store
from tests.judge.judge_server import JudgeServer
from tests.label_helpers import add_repo, add_snippets
from tests.label_openai_server import LabelServer


class ChildCounter:
    """Samples this process's `python -m pipeline.jobs run ID` children (zombies excluded) per job id."""

    def __init__(self):
        self.max_per_job: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.is_set():
            now: Counter = Counter()
            # Our own children only: other studios on this machine run jobs with the same ids, and a
            # job's own subprocesses carry its command line between fork and exec.
            for proc in psutil.Process().children(recursive=False):
                try:
                    cmd, status = proc.cmdline(), proc.status()
                except psutil.Error:
                    continue
                if status != psutil.STATUS_ZOMBIE and cmd[-3:-1] == ["pipeline.jobs", "run"]:
                    now[cmd[-1]] += 1
                    for launch in _launches(proc):   # a training job's `accelerate launch`
                        now[launch] += 1
            for job_id, n in now.items():
                self.max_per_job[job_id] = max(self.max_per_job[job_id], n)
            time.sleep(0.02)


def _launches(job_proc) -> list[str]:
    """The run.json of each live `accelerate launch` under a job process ("run:<path>")."""
    out = []
    try:
        kids = job_proc.children(recursive=False)
    except psutil.Error:
        return out
    for kid in kids:
        try:
            cmd, status = kid.cmdline(), kid.status()
        except psutil.Error:
            continue
        if status != psutil.STATUS_ZOMBIE and "accelerate.commands.launch" in cmd:
            out.append("run:" + cmd[-1])
    return out


def setup_training_runs(store, home: str, n: int) -> list[tuple[int, int]]:
    """(run id, its old job id): runs left interrupted by a killed job, ready to be resumed."""
    out = []
    for r in range(n):
        run_dir = Path(home) / "runs" / f"soak-run{r}"
        run_dir.mkdir(parents=True)
        (run_dir / "run.json").write_text("{}")   # rejected by the trainer: each launch ends quickly
        (run_dir / "accelerate.yaml").write_text("compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\n"
                                                 "num_processes: 1\nuse_cpu: true\nmixed_precision: 'no'\n")
        run = store.create_run(f"soak-run{r}", {}, status="interrupted", devices="cpu",
                               output_dir=str(run_dir / "out"), command=f"accelerate launch … {run_dir}/run.json")
        old = store.create_job("train", {"run_id": run["id"]}, title=f"train soak-run{r}")
        store.update_run(run["id"], job_id=old)
        store.finish_job(old, "interrupted", error="killed")
        out.append((run["id"], old))
    return out


def judge_verdict(prompt: str, attempt: int) -> str:
    """The first reply holds no verdict (it is asked again); later ones do."""
    return "Looks fine, hard to say." if attempt <= 1 else "Fine.\nRating: [[7]]"


def setup_judge_runs(store, server, n: int, items: int) -> list[dict]:
    from evals.judge.run import JudgeConfig
    from tests.judge.judge_server import register_models

    register_models(store, server)
    configs = []
    for r in range(n):
        suite = [{"id": f"s{r}t{i}", "category": "write-function", "language": "python",
                  "instruction": f"TASK-{r * 100 + i}: write a Python function f that returns 1.",
                  "reference": "def f():\n    return 1"} for i in range(items)]
        store.create_judge_suite(f"soak-judge{r}", suite)
        for i in range(items):   # every re-ask waits out a 429 first: a long window to cancel in
            server.faults[f"TASK-{r * 100 + i} judge alpha"] = [None, "429"]
        configs.append(JudgeConfig(judge="judge", contestants=["alpha"], suite=f"soak-judge{r}", mode="single",
                                   concurrency=2, request_timeout_s=2, backoff_base_s=0.05, backoff_max_s=3.0))
    return configs


def judge_paid_twice(store, server, judge_runs: list[int]) -> int:
    """Judge replies the server was paid for beyond what the store recorded (a lost paid reply
    bought again), plus contestant answers paid more than once."""
    stored: Counter = Counter()
    for run_id in judge_runs:
        for j in store.judgments(run_id):
            if j["status"] in ("ok", "unparseable"):   # item "s{r}t{i}" asks TASK-{r*100+i}
                r, i = map(int, str(j["item_id"])[1:].split("t"))
                stored[f"TASK-{r * 100 + i} judge alpha"] += j["attempts"] or 0
    judge_keys = {k: v for k, v in server.paid_by_name.items() if " judge " in k}
    answers = {k: v for k, v in server.paid_by_name.items() if k.endswith(" answer")}
    return sum(1 for k, paid in judge_keys.items() if paid > stored[k]) + sum(1 for v in answers.values() if v > 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="random operations")
    parser.add_argument("--jobs", type=int, default=20, help="labelling jobs")
    parser.add_argument("--snippets", type=int, default=6, help="snippets per job")
    parser.add_argument("--train-runs", type=int, default=3, help="interrupted training runs to resume")
    parser.add_argument("--judge-runs", type=int, default=3, help="judge runs to cancel and resume")
    parser.add_argument("--judge-items", type=int, default=4, help="items per judge run")
    parser.add_argument("--seed", type=int, default=10, help="random seed")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as home, LabelServer(latency_s=0.15, timeout_sleep_s=2.0,
                                                            retry_after_s=0.2) as server:
        os.environ["STUDIO_HOME"] = home
        store = Store(Path(home) / "studio.db")
        store.register_model("soak", "openai", "served-model", endpoint=server.base_url)
        repos = []
        for j in range(args.jobs):
            repo_id = add_repo(store, f"soak/repo{j}")
            add_snippets(store, args.snippets, repo_id=repo_id, start=j * args.snippets)
            repos.append(f"soak/repo{j}")
        total = args.jobs * args.snippets
        for i in rng.sample(range(total), total // 4):  # a quarter of the snippets fail first, then succeed
            server.faults[f"snippet_{i}"] = [rng.choice(["429", "500", "timeout"])]
        config = dict(model="soak", concurrency=2, request_timeout_s=1.0, max_retries=4, backoff_base_s=0.05,
                      backoff_max_s=0.5)
        submitted: dict[int, int] = {}       # job index -> job id
        counts: Counter = Counter()
        train_runs = setup_training_runs(store, home, args.train_runs)
        judge_server = JudgeServer(judge_verdict, latency_s=0.1, retry_after_s=2.0)
        judge_server.__enter__()
        judge_configs = setup_judge_runs(store, judge_server, args.judge_runs, args.judge_items)
        judge_jobs: dict[int, int] = {}      # judge run id -> job id
        began = time.monotonic()
        with ChildCounter() as children:
            for _ in range(args.ops):
                op = rng.choice(["submit", "cancel", "resume", "kill"] + ["train"] * bool(train_runs)
                                + ["judge"] * 2 * bool(judge_configs))
                if op in ("train", "judge"):
                    op = (train_op if op == "train" else judge_op)(store, rng, train_runs, judge_configs, judge_jobs)
                elif op == "submit" and len(submitted) < args.jobs:
                    j = len(submitted)
                    submitted[j] = start_labelling(store, LabelConfig(repo=repos[j], **config))
                elif submitted:
                    job_id = submitted[rng.choice(list(submitted))]
                    job = store.get_job(job_id)
                    try:
                        if op == "cancel":
                            jobs.cancel(store, job_id, wait=False)
                        elif op == "resume":
                            jobs.resume(store, job_id)
                        elif op == "kill" and job["status"] == "running" and job["pid"]:
                            os.killpg(job["pid"], signal.SIGKILL)
                        else:
                            op = "noop"
                    except (jobs.JobError, ProcessLookupError):
                        op += " (refused)"
                counts[op] += 1
                jobs.supervise(store)  # what the app's supervisor thread and Jobs tick do
                time.sleep(rng.uniform(0.02, 0.3))
            # Settle: let cancels finish within their grace and the supervisor see what died.
            all_jobs = lambda: [*submitted.values(), *judge_jobs.values(), *_train_jobs(store)]
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and any(store.job_status(i) in ("queued", "running")
                                                      for i in all_jobs()):
                jobs.supervise(store)
                time.sleep(0.2)
        elapsed = time.monotonic() - began
        statuses = Counter(store.job_status(i) for i in all_jobs())
        stuck = sum(statuses[s] for s in ("queued", "running"))
        label_twice = sum(1 for n in server.paid_by_name.values() if n > 1)
        judge_twice = judge_paid_twice(store, judge_server, list(judge_jobs))
        paid_twice = label_twice + judge_twice
        max_children = max(children.max_per_job.values(), default=0)
        max_launches = max((n for k, n in children.max_per_job.items() if str(k).startswith("run:")), default=0)
        judge_server.__exit__(None, None, None)
        store.close()

    print(f"{args.ops} operations over {len(submitted)} labelling jobs in {elapsed:.0f}s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("final statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"snippets paid for: {len(server.paid_by_name)} of {total} (requests paid {server.paid['requests']}); "
          f"paid twice: labelling {label_twice}, judging {judge_twice}")
    print(f"training launches at once per run, at most: {max_launches}")
    print(f"max children per job {max_children}")
    print(f"paid twice {paid_twice}")
    print(f"jobs not in a terminal state {stuck}")
    ok = max_children <= 1 and paid_twice == 0 and stuck == 0
    print(f"soak {'OK' if ok else 'FAILED'}: max children per job {max_children} (target 1), paid twice "
          f"{paid_twice} (target 0), jobs not in a terminal state {stuck} (target 0)")
    return 0 if ok else 1


def _train_jobs(store) -> list[int]:
    return [j["id"] for j in store.list_jobs(limit=10_000, kind="train")]


def train_op(store, rng, train_runs, judge_configs, judge_jobs) -> str:
    """Resume pressed on one training run from both tabs at once, in random order: the Train
    tab's (a new job for the run) and the Jobs tab's (the run's last job again)."""
    from pipeline.train import TrainError
    from pipeline.train.job import resume_run

    run_id, _ = rng.choice(train_runs)
    last_job = store.get_run(run_id)["job_id"]

    def train_tab():
        resume_run(store, run_id)

    def jobs_tab():
        jobs.resume(store, last_job or 0)

    accepted = 0
    for press in rng.sample([train_tab, jobs_tab], 2):
        try:
            press()
            accepted += 1
        except (TrainError, jobs.JobError):
            pass
    return f"train resume, {accepted} of 2 presses accepted"


def judge_op(store, rng, train_runs, judge_configs, judge_jobs) -> str:
    """Start a judge run, or cancel / resume one."""
    from evals.judge.run import start_judging

    if len(judge_jobs) < len(judge_configs) and rng.random() < 0.4:
        run_id, job_id = start_judging(store, judge_configs[len(judge_jobs)])
        judge_jobs[run_id] = job_id
        return "judge start"
    if not judge_jobs:
        return "noop"
    job_id = judge_jobs[rng.choice(list(judge_jobs))]
    try:
        if rng.random() < 0.5:
            jobs.cancel(store, job_id, wait=False)
            return "judge cancel"
        jobs.resume(store, job_id)
        return "judge resume"
    except jobs.JobError:
        return "judge (refused)"


if __name__ == "__main__":
    sys.exit(main())
