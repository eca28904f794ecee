"""Jobs under faults: 200 random submit / cancel / resume / kill -9 operations over 20 labelling
jobs, against the local OpenAI-compatible server with latency and injected errors (429, 500,
timeouts). Real child processes, the real store, the real openai client.

    python benchmarks/jobs_soak.py [--ops 200] [--jobs 20] [--snippets 6] [--seed 10]

Measures what issue 10 is about: how many processes ever ran one job at the same time (sampled
every 20 ms from the process table), how many snippets the server was paid for more than once,
and how many jobs are left queued or running once the operations stop and the supervisor has
settled what died. Targets: max children per job 1, paid twice 0, jobs not in a terminal state 0.
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

import psutil  # noqa: E402

from pipeline import jobs  # noqa: E402
from pipeline.label.labeller import LabelConfig, start_labelling  # noqa: E402
from pipeline.store import Store  # noqa: E402
from tests.label_helpers import add_repo, add_snippets  # noqa: E402
from tests.label_openai_server import LabelServer  # noqa: E402


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
            for job_id, n in now.items():
                self.max_per_job[job_id] = max(self.max_per_job[job_id], n)
            time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="random operations")
    parser.add_argument("--jobs", type=int, default=20, help="labelling jobs")
    parser.add_argument("--snippets", type=int, default=6, help="snippets per job")
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
        began = time.monotonic()
        with ChildCounter() as children:
            for _ in range(args.ops):
                op = rng.choice(["submit", "cancel", "resume", "kill"])
                if op == "submit" and len(submitted) < args.jobs:
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
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and any(store.job_status(i) in ("queued", "running")
                                                      for i in submitted.values()):
                jobs.supervise(store)
                time.sleep(0.2)
        elapsed = time.monotonic() - began
        statuses = Counter(store.job_status(i) for i in submitted.values())
        stuck = sum(statuses[s] for s in ("queued", "running"))
        paid_twice = sum(1 for n in server.paid_by_name.values() if n > 1)
        max_children = max(children.max_per_job.values(), default=0)
        store.close()

    print(f"{args.ops} operations over {len(submitted)} labelling jobs in {elapsed:.0f}s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("final statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"snippets paid for: {len(server.paid_by_name)} of {total} (requests paid {server.paid['requests']})")
    print(f"max children per job {max_children}")
    print(f"paid twice {paid_twice}")
    print(f"jobs not in a terminal state {stuck}")
    ok = max_children <= 1 and paid_twice == 0 and stuck == 0
    print(f"soak {'OK' if ok else 'FAILED'}: max children per job {max_children} (target 1), paid twice "
          f"{paid_twice} (target 0), jobs not in a terminal state {stuck} (target 0)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
