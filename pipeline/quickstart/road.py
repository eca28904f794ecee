"""The quickstart's steps as data, and the job that walks them.

Every step is idempotent and knows from the store whether it is done, so a resumed or repeated
quickstart picks up where it stopped. A step that takes time runs as the stage's own job (curate,
label, train, eval) and this job mirrors its progress: the Jobs tab shows both.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from pipeline.config import JobConfig
from pipeline.errors import ConfigError, StudioError
from pipeline.jobs import costs

ROOT = Path(__file__).resolve().parents[2]
POLL_S = 1.0


class QuickstartError(StudioError):
    """A quickstart step failed; the message names the step and the job that has the details."""


@dataclass
class QuickstartConfig(JobConfig):
    source: str = field(default=str(ROOT), metadata={
        "help": "local folder or git repo to learn from (default: the studio's own source)"})
    subdir: str = field(default="pipeline", metadata={"help": "only this subfolder of the source (empty: all)"})
    base_model: str = field(default="SmolLM2-135M-Instruct", metadata={
        "help": "registered model to fine-tune (the embedded default works offline)"})
    labeller: str = field(default="docstring", metadata={
        "help": "'docstring' (free, offline, seconds) or a registered model (slow on a CPU: use label_limit)"})
    label_limit: int = field(default=400, metadata={"help": "label at most this many snippets", "min": 1,
                                                    "max": 100_000})
    dataset: str = field(default="quickstart", metadata={"help": "name of the frozen dataset"})
    run_name: str = field(default="quickstart-lora", metadata={"help": "name of the training run"})
    train_steps: int = field(default=40, metadata={"help": "LoRA optimizer steps (the plan shows how long they take here)",
                                                   "min": 1, "max": 5000})
    batch_size: int = field(default=2, metadata={"help": "packed rows per training step", "min": 1, "max": 256})
    max_length: int = field(default=256, metadata={"help": "longest training sequence in tokens", "min": 32,
                                                   "max": 8192})
    eval_tasks: int = field(default=164, metadata={
        "help": "pass@1 on the first N HumanEval tasks (164 = all; the plan shows how long they take here)",
        "min": 1, "max": 164})
    eval_max_new_tokens: int = field(default=192, metadata={"help": "most tokens per eval answer", "min": 16,
                                                            "max": 4096})

    def check(self) -> None:
        if not self.source.strip():
            raise ConfigError("--source: give the folder to learn from")


@dataclass
class Step:
    key: str
    title: str
    what: str                   # what the step does, said before it runs
    next: str                   # what a person can do after it
    tab: str                    # where to look at its result
    expected_s: Callable[[Road], float]     # from the cost model (pipeline.jobs.costs)
    done: Callable[[Road], str | None]      # a summary when done, else None
    run: Callable[[Road], int | None]       # starts the step; a job id to follow, or None


class Road:
    """The quickstart over one store and config: what is done, and how to do the rest."""

    def __init__(self, store, cfg: QuickstartConfig):
        self.store, self.cfg = store, cfg

    # -- what the steps cost (one model: pipeline.jobs.costs) --------------------------------------
    def cost(self, kind: str, units: float, params: dict | None = None) -> float:
        return costs.estimate(self.store, kind, units, params).seconds

    def train_params(self) -> dict:
        return {"batch_size": self.cfg.batch_size, "max_length": self.cfg.max_length}

    def eval_params(self) -> dict:
        return {"max_new_tokens": self.cfg.eval_max_new_tokens}

    # -- lookups shared by the steps -------------------------------------------------------------
    def repo(self) -> dict | None:
        from pipeline.curate import fetch

        url = fetch.local_source(self.cfg.source)["url"]
        return next((r for r in self.store.list_repos(limit=100_000) if r["url"] == url), None)

    def pair_filter(self, **extra) -> dict:
        repo = self.repo()
        return {"repo": [str(repo["id"])] if repo else ["-"], **extra}

    def dataset(self) -> dict | None:
        try:
            return self.store.get_dataset(self.cfg.dataset)
        except StudioError:
            return None

    def run_row(self) -> dict | None:
        try:
            return self.store.get_run(self.cfg.run_name)
        except StudioError:
            return None

    def tuned_model(self) -> str | None:
        run = self.run_row()
        if not run or run["status"] != "done":
            return None
        # the checkpoint itself, not a GGUF copy of it (registered with the same run, for lineage)
        checkpoints = [c for c in self.store.run_checkpoints(run["id"]) if c["kind"] != "gguf"]
        return checkpoints[-1]["name"] if checkpoints else None

    def eval_of(self, model: str | None) -> dict | None:
        if not model:
            return None
        for e in self.store.list_evals(limit=1000):
            p = e.get("params") or {}
            if e["model"] == model and p.get("limit") == self.cfg.eval_tasks and p.get("name") == "quickstart":
                return e
        return None

    def blockers(self) -> list[str]:
        """What would stop the road at a later step, found before it starts (the gate's answer for
        this caller: reading the code folder, running model-written code): said up front, not at step 2."""
        from pipeline import access
        from pipeline.errors import StudioError as Refused
        from pipeline.paths import server_path

        found = []
        if _curate_done(self) is None and self.repo() is None:
            try:
                server_path(self.cfg.source, "the quickstart's code folder")
            except Refused as exc:
                found.append(str(exc))
        if _eval_done(self, "base") is None or _eval_done(self, "tuned") is None:
            who = access.current()
            why = access.decide(who, access.Cap.RUN_CODE, access.Target(what="the eval steps"))
            if why:
                found.append(f"the eval steps run model-written code, refused for the {who.role.value}: {why}")
        return found

    def totals_text(self) -> str:
        """'whole road: about 12 min (7 min left) on this machine; …': what the plan, the tab and
        the README say, from the same cost model as each step."""
        rows = self.status()
        whole = expected_seconds(self.store, self.cfg)
        left = sum(r["expected_s"] for r in rows if not r["done"])
        sources = sorted({costs.per_unit_seconds(self.store, k)[1] for k in ("train", "eval_generate")})
        return (f"whole road: about {costs.duration_text(whole)} from scratch"
                + (f" ({costs.duration_text(left)} left)" if left < whole else "")
                + f" on this machine; estimates: {'; '.join(sources)}")

    def status(self) -> list[dict]:
        """Each step with its state, expected duration and what it did."""
        rows = []
        for step in STEPS:
            summary = step.done(self)
            rows.append({"key": step.key, "title": step.title, "what": step.what, "next": step.next,
                         "tab": step.tab, "expected_s": round(step.expected_s(self)),
                         "done": summary is not None, "summary": summary or ""})
        return rows


# -- the steps ------------------------------------------------------------------------------------
def _prepare_done(road: Road) -> str | None:
    names = {m["name"] for m in road.store.list_models()}
    return f"{road.cfg.base_model} is registered" if road.cfg.base_model in names else None


def _prepare_run(road: Road) -> int | None:
    from pipeline.models.default_model import DEFAULT_NAME, ensure_default_model_job

    if road.cfg.base_model != DEFAULT_NAME:
        raise QuickstartError(f"{road.cfg.base_model} is not registered: register it in the Models tab first")
    return ensure_default_model_job(road.store)


def _curate_done(road: Road) -> str | None:
    repo = road.repo()
    if not repo or repo["status"] != "extracted":
        return None
    return f"{repo['full_name']}: {(repo.get('stats') or {}).get('functions', '?')} functions extracted"


def _curate_run(road: Road) -> int | None:
    from pipeline.curate.job import CurateConfig, add_local_repo, start_curate

    repo = road.repo()
    repo_id = repo["id"] if repo else add_local_repo(road.store, road.cfg.source, road.cfg.subdir or None)
    return start_curate(road.store, CurateConfig(repo_ids=[repo_id], force=bool(repo)), title="quickstart: curate")


def _made(row: dict | None, what: str) -> dict:
    """A row an earlier step made (steps run in order, each after the one before is done)."""
    if row is None:
        raise QuickstartError(f"{what} is not there: the step that makes it must finish first")
    return row


def _label_done(road: Road) -> str | None:
    n = road.store.query_pairs(road.pair_filter(), 1, 1)["total"] if road.repo() else 0
    return f"{n} instruction pairs" if n else None


def _label_run(road: Road) -> int | None:
    from pipeline.label.labeller import LabelConfig, start_labelling

    repo = _made(road.repo(), "the curated source")
    return start_labelling(road.store, LabelConfig(model=road.cfg.labeller, repo=str(repo["id"]),
                                                   limit=road.cfg.label_limit))


def _review_done(road: Road) -> str | None:
    n = road.store.query_pairs(road.pair_filter(status=["approved"]), 1, 1)["total"] if road.repo() else 0
    return f"{n} pairs approved" if n else None


def _review_run(road: Road) -> int | None:
    """Flag duplicates, eval contamination and low-quality pairs, then approve the clean rest; the
    Pairs tab shows them for a person to read, edit or reject before freezing again."""
    from pipeline.clean.job import CleanConfig, run_clean

    run_clean(road.store, CleanConfig(), log=lambda *_: None)
    road.store.bulk_set_status(road.pair_filter(status=["draft"], flag="clean"), "approved")
    return None


def _freeze_done(road: Road) -> str | None:
    d = road.dataset()
    return f"{d['name']}@{d['version']}: {d.get('size') or len(d.get('pair_ids') or [])} pairs" if d else None


def _freeze_run(road: Road) -> int | None:
    from pipeline.pairs.export import freeze_dataset

    freeze_dataset(road.store, road.cfg.dataset, road.pair_filter(status=["approved"]))
    return None


def _train_done(road: Road) -> str | None:
    model = road.tuned_model()
    if not model or not (run := road.run_row()):   # a tuned model comes from a done run
        return None
    loss = road.store.latest_run_loss(run["id"])
    return f"checkpoint {model}" + (f" · last loss {loss:.3f}" if loss is not None else "")


def _train_run(road: Road) -> int | None:
    from pipeline.train.config import TrainConfig
    from pipeline.train.job import resume_run, start_run

    run = road.run_row()
    if run and run["status"] in ("failed", "cancelled", "interrupted", "stopped"):
        return resume_run(road.store, run["id"])["job_id"]
    if run and run["status"] in ("queued", "running", "stopping"):
        return run["job_id"]
    d = _made(road.dataset(), "the frozen dataset")
    cfg = TrainConfig(run_name=road.cfg.run_name, base_model=road.cfg.base_model,
                      dataset=f"{d['name']}@{d['version']}", method="lora", max_steps=road.cfg.train_steps,
                      batch_size=road.cfg.batch_size, max_length=road.cfg.max_length,
                      logging_steps=max(1, road.cfg.train_steps // 20), save_steps=road.cfg.train_steps,
                      save_total_limit=1)
    return start_run(road.store, cfg)["job_id"]


def _eval_done(road: Road, which: str) -> str | None:
    model = road.cfg.base_model if which == "base" else road.tuned_model()
    e = road.eval_of(model)
    if not e or e["status"] != "done":
        return None
    p1 = (e.get("metrics") or {}).get("pass_at_k", {}).get("1")
    valid = (e.get("metrics") or {}).get("validity_rate")
    return (f"eval {e['id']}: pass@1 {p1:.3f}" if isinstance(p1, (int, float)) else f"eval {e['id']}") + \
        (f" · syntax valid {valid:.0%}" if isinstance(valid, (int, float)) else "")


def _eval_run(road: Road, which: str) -> int | None:
    from pipeline import jobs

    model = road.cfg.base_model if which == "base" else road.tuned_model()
    if not model:
        raise QuickstartError("the tuned checkpoint is not there yet: the training step must finish first")
    existing = road.eval_of(model)
    if existing and existing.get("job_id") and road.store.job_status(existing["job_id"]) in ("failed", "interrupted",
                                                                                              "cancelled"):
        return jobs.resume(road.store, existing["job_id"])["id"]
    if existing and existing["status"] != "done" and existing.get("job_id"):
        return existing["job_id"]
    params = {"suite": "humaneval", "model": model, "limit": road.cfg.eval_tasks, "n_samples": 1,
              "temperature": 0.0, "max_new_tokens": road.cfg.eval_max_new_tokens, "name": "quickstart"}
    return jobs.submit(road.store, "eval_generate", params, title=f"quickstart: pass@1 of {model}")


STEPS: list[Step] = [
    Step("prepare", "Prepare the base model",
         "Converts the embedded SmolLM2-135M-Instruct (a GGUF inside a pip wheel) to a model folder, once.",
         "Try it in the Chat tab.", "Models",
         lambda r: r.cost("prepare_model", 1), _prepare_done, _prepare_run),
    Step("curate", "Curate a code folder",
         "Adds the folder as a local repo and extracts its functions and methods with tree-sitter.",
         "Browse the snippets in the Repos tab.", "Repos",
         lambda r: r.cost("curate", 1), _curate_done, _curate_run),
    Step("label", "Label snippets into instruction pairs",
         "Turns each snippet into an instruction pair (docstring labeller: its own docstring, free and offline).",
         "Read and edit pairs in the Pairs tab.", "Pairs",
         lambda r: r.cost("label" if r.cfg.labeller == "docstring" else "label_model", r.cfg.label_limit),
         _label_done, _label_run),
    Step("review", "Review",
         "Flags duplicates, HumanEval contamination and low-quality pairs, then approves the clean rest.",
         "Reject or edit pairs in the Pairs tab; a new freeze makes a new dataset version.", "Pairs",
         lambda r: r.cost("clean", r.cfg.label_limit), _review_done, _review_run),
    Step("freeze", "Freeze a dataset",
         "Freezes the approved pairs' text as a versioned dataset: training never reads a moving target.",
         "Export it from the Pairs tab, or train on it.", "Pairs",
         lambda r: 1, _freeze_done, _freeze_run),
    Step("train", "LoRA fine-tune the base model",
         "Runs `accelerate launch` with TRL's SFTTrainer: LoRA, loss on the response only, packed sequences.",
         "Watch the loss curve in the Train tab; chat with the checkpoint side by side with its base.", "Train",
         lambda r: r.cost("train", r.cfg.train_steps, r.train_params()), _train_done, _train_run),
    Step("eval_base", "Evaluate the base model",
         "pass@1 on the first N HumanEval tasks, executed in the sandbox, with syntax validity of each answer.",
         "Drill into each sample in the Evals tab.", "Evals",
         lambda r: r.cost("eval_generate", r.cfg.eval_tasks, r.eval_params()),
         lambda r: _eval_done(r, "base"), lambda r: _eval_run(r, "base")),
    Step("eval_tuned", "Evaluate the tuned checkpoint",
         "The same tasks and settings for the fine-tuned checkpoint, so the two numbers compare.",
         "See both side by side in the Compare tab, and trace any score back in the Lineage tab.", "Compare",
         lambda r: r.cost("eval_generate", r.cfg.eval_tasks, r.eval_params()),
         lambda r: _eval_done(r, "tuned"), lambda r: _eval_run(r, "tuned")),
]


# -- own code (issue 24): base and tuned on the dataset's held-out split, then the verdict ----------
OWNCODE_ITEMS = 32          # held-out items asked (a stated subset, as the HumanEval steps do)
OWNCODE_TOKENS = 128


def _owncode_eval(road: Road, model: str | None) -> dict | None:
    d = road.dataset()
    if not d or not model:
        return None
    rows = [e for e in road.store.list_owncode_evals(d["id"]) if e["model"] == model]
    return rows[0] if rows else None


def _owncode_done(road: Road, which: str) -> str | None:
    d = road.dataset()
    if d and not road.store.dataset_split_counts(d["id"])["test"]:
        return f"no held-out test split in {d['name']}@{d['version']} ({d['split_info'].get('note', 'none')})"
    e = _owncode_eval(road, road.cfg.base_model if which == "base" else road.tuned_model())
    if not e or e["status"] != "done":
        return None
    m = e["metrics"] or {}
    line = (f"own-code eval {e['id']}: chrF {m.get('chrf') or 0:.1f} on {m.get('items')} held-out items"
            + (f" · reference loss {m['loss']:.3f}" if m.get("loss") is not None else ""))
    return f"{line} · {m['verdict']}" if m.get("verdict") else line


def _owncode_run(road: Road, which: str) -> int | None:
    from pipeline import jobs

    model = road.cfg.base_model if which == "base" else road.tuned_model()
    existing = _owncode_eval(road, model)
    if existing and existing.get("job_id") and road.store.job_status(existing["job_id"]) in (
            "failed", "interrupted", "cancelled"):
        return jobs.resume(road.store, existing["job_id"])["id"]
    if existing and existing["status"] == "running" and existing.get("job_id"):
        return existing["job_id"]
    base = _owncode_eval(road, road.cfg.base_model) if which == "tuned" else None
    d = _made(road.dataset(), "the frozen dataset")
    params = {"model": model, "dataset": f"{d['name']}@{d['version']}", "limit": OWNCODE_ITEMS,
              "max_new_tokens": OWNCODE_TOKENS, "name": f"quickstart {which}",
              "compare_with": base["id"] if base and base["status"] == "done" else 0}
    return jobs.submit(road.store, "owncode_eval", params, title=f"quickstart: own-code eval of {model}")


OWNCODE_STEPS = [
    Step("owncode_base", "Score the base model on your held-out code",
         f"Asks the base model the first {OWNCODE_ITEMS} instructions of the dataset's held-out test split (code "
         "it never trains on) "
         "and scores each answer against the human-written code: chrF, exact match, syntax validity, loss, doctests.",
         "Drill into each item in the Evals tab (Own code).", "Evals",
         lambda r: r.cost("owncode_eval", OWNCODE_ITEMS, {"max_new_tokens": OWNCODE_TOKENS}),
         lambda r: _owncode_done(r, "base"), lambda r: _owncode_run(r, "base")),
    Step("owncode_tuned", "Score the tuned checkpoint on your held-out code: the verdict",
         "The same held-out items for the fine-tune, then a paired comparison with its confidence: does it write "
         "your code better than the base, and how sure is that?",
         "Read the verdict and every score's interval in the Compare tab.", "Compare",
         lambda r: r.cost("owncode_eval", OWNCODE_ITEMS, {"max_new_tokens": OWNCODE_TOKENS}),
         lambda r: _owncode_done(r, "tuned"), lambda r: _owncode_run(r, "tuned")),
]
STEPS += OWNCODE_STEPS


def expected_seconds(store, cfg: QuickstartConfig) -> float:
    """The whole road from scratch, from the same cost model as each step and each job's ETA."""
    road = Road(store, cfg)
    return sum(step.expected_s(road) for step in STEPS)


def start_quickstart(store, cfg: QuickstartConfig) -> int:
    from pipeline import jobs

    cfg.validate()
    blockers = Road(store, cfg).blockers()
    if blockers:
        raise QuickstartError("the quickstart cannot run here: " + "; ".join(blockers))
    for job in store.list_jobs(limit=50, kind="quickstart"):
        if job["status"] in ("queued", "running"):
            raise QuickstartError(f"a quickstart is already running (job {job['id']}): follow it in the Jobs tab")
    return jobs.submit(store, "quickstart", cfg.to_dict(), title="quickstart: the whole road")


def _follow(ctx, road: Road, step_index: int, step: Step, job_id: int) -> None:
    """Mirror a step's job into the quickstart's own progress until it ends. The road's ETA is the
    running child's own (measured) ETA plus the cost model's figure for every step still to come."""
    from pipeline import jobs

    later_s = later_steps_s(road, step_index)
    while True:
        if ctx.should_stop():
            jobs.cancel(ctx.store, job_id, wait=False)
            raise jobs.JobCancelled()
        job = ctx.store.get_job(job_id)
        ctx.progress(step_index, len(STEPS), f"{step.title}: {jobs.format_progress(job)} · "
                                             f"{job.get('message') or job['status']} (job {job_id})",
                     eta_s=child_eta_s(road, step, job) + later_s)
        if job["status"] not in jobs.ACTIVE:
            break
        jobs.supervise(ctx.store)
        time.sleep(POLL_S)
    if job["status"] != "done":
        raise QuickstartError(f"step '{step.title}' did not finish: job {job_id} {job['status']}"
                              + (f": {job['error']}" if job.get("error") else "") + ". Resume the quickstart "
                              "once it is fixed; finished steps are not redone.")


def later_steps_s(road: Road, step_index: int) -> float:
    """The cost model's seconds for the steps after this one that are not done yet."""
    return sum(s.expected_s(road) for s in STEPS[step_index + 1:] if s.done(road) is None)


def child_eta_s(road: Road, step: Step, job: dict) -> float:
    """Seconds the running step still needs: its job's measured ETA once it has one, else the
    step's estimate less the time it has run."""
    if job.get("eta_s") is not None:
        return float(job["eta_s"])
    started = job.get("started_at") or job.get("created_at")
    elapsed = 0.0
    if started:
        from datetime import datetime

        elapsed = (datetime.now(UTC) - datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds()
    return max(0.0, step.expected_s(road) - elapsed)


def quickstart_job(ctx) -> dict:
    cfg = QuickstartConfig.from_dict(ctx.params)
    road = Road(ctx.store, cfg)
    done = []
    for i, step in enumerate(STEPS):
        summary = step.done(road)
        if summary is None:
            left = sum(s.expected_s(road) for s in STEPS[i:] if s.done(road) is None)
            ctx.progress(i, len(STEPS), f"{step.title}: starting (about "
                                        f"{costs.duration_text(step.expected_s(road))})", force=True, eta_s=left)
            ctx.log(f"step {i + 1}/{len(STEPS)} {step.title}: {step.what}")
            job_id = step.run(road)
            if job_id is not None:
                _follow(ctx, road, i, step, job_id)
            summary = step.done(road)
            if summary is None:
                raise QuickstartError(f"step '{step.title}' ended without its result; see the Jobs tab")
        ctx.log(f"step {i + 1}/{len(STEPS)} {step.title}: {summary}. Next: {step.next}")
        done.append({"step": step.key, "summary": summary})
    ctx.progress(len(STEPS), len(STEPS), "done: open the Compare tab", force=True)
    return {"steps": done, "base_model": cfg.base_model, "tuned_model": road.tuned_model(),
            "message": "; ".join(f"{d['step']}: {d['summary']}" for d in done)}
