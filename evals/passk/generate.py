"""Eval jobs: generate samples with a model, execute them, and compute the metrics.

    job_id = submit_eval(store, EvalConfig(suite="humaneval", model="my-model", n_samples=5))
    python -m evals passk run --suite humaneval --model my-model --n 5 --wait

`eval_generate` (job kind) creates the eval row, asks the model for n samples per task in
batches through pipeline.models (vLLM/transformers/OpenAI-compatible, whatever the model is),
stores prompt, raw output, stop words and the post-processed completion of every sample, then
(unless execute=False) runs `execute_eval`. `eval_execute` scores the samples of an existing
eval (e.g. imported from a human-eval samples file). Both resume where they stopped: generated
samples are not generated again, executed ones not executed again.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from evals.passk import pass_at_k_table
from evals.passk.execute import ExecutionPool, check_validity, execute_samples
from evals.passk.languages import normalize_language
from evals.passk.postprocess import END_OF_TEXT, completion_from_chat, finish_continuation, stop_words
from evals.passk.prompting import FORMATS, TASK_TYPES, build_prompt, describe_prompt, program_prefix
from evals.passk.suites import import_humaneval, load_tasks
from evals.sandbox import SandboxLimits, require_execution_allowed
from pipeline.config import JobConfig
from pipeline.errors import ConfigError

EXECUTE_BATCH = 200


@dataclass
class EvalConfig(JobConfig):
    suite: str = field(default="humaneval", metadata={"help": "suite name (see `passk suites`); "
                                                              "'humaneval' is imported on first use"})
    model: str = field(default="", metadata={"help": "registered model name that writes the samples"})
    n_samples: int = field(default=1, metadata={"help": "samples per task (n in pass@k; k <= n)", "min": 1,
                                                  "aliases": ("--n",)})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0 = greedy)",
                                                      "min": 0.0, "max": 2.0})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling mass", "min": 0.01, "max": 1.0})
    max_new_tokens: int = field(default=512, metadata={"help": "most tokens per sample", "min": 1})
    prompt_format: str = field(default="chat", metadata={
        "help": "chat: instruction + the model's template; continuation: the bare prompt (base models)",
        "choices": tuple(FORMATS)})
    task_type: str = field(default="synthesize", metadata={
        "help": "synthesize | fix (repair the buggy solution) | explain (describe, then rewrite); "
                "fix/explain need a HumanEvalPack suite", "choices": tuple(TASK_TYPES)})
    batch_size: int = field(default=16, metadata={"help": "prompts per generate() call", "min": 1})
    seed: int | None = field(default=None, metadata={"help": "sampling seed (None = random)"})
    limit: int = field(default=0, metadata={"help": "only the first N tasks (0 = all)", "min": 0})
    timeout_s: float = field(default=3.0, metadata={"help": "wall-clock seconds per test run", "min": 0.1})
    workers: int = field(default=0, metadata={"help": "sandbox workers (0 = one per core)", "min": 0})
    execute: bool = field(default=True, metadata={"help": "run the tests right after generating"})
    allow_weak_sandbox: bool = field(default=False, metadata={
        "help": "run the tests even where the sandbox lacks its minimum protections (no network, pid namespace, "
                "private filesystem); recorded with the eval"})
    name: str = field(default="", metadata={"help": "a label for this eval (optional)"})
    engine: str = field(default="auto", metadata={
        "help": "what generates: auto (the fastest that runs the model here: vLLM on a GPU, llama.cpp "
                "where the model has a GGUF, else transformers) | transformers | llama.cpp | vllm",
        "choices": ("auto", "transformers", "llama.cpp", "vllm")})

    def check(self) -> None:
        if not self.model:
            raise ConfigError("choose a model to evaluate (--model)")
        if self.n_samples > 1 and self.temperature == 0:
            raise ConfigError("--n-samples > 1 needs --temperature > 0 (greedy samples are all the same)")


def submit_eval(store, config: EvalConfig) -> int:
    from pipeline import access, jobs

    config.validate()
    if config.execute:
        require_execution_allowed()
        access.require(access.Cap.RUN_CODE, access.Target(weak_sandbox=config.allow_weak_sandbox,
                                                          what=f"evaluate {config.model} by running its code"))
    if config.suite == "humaneval":
        import_humaneval(store)
    store.get_suite(config.suite)
    return jobs.submit(store, "eval_generate", config.to_dict(),
                       title=f"eval {config.model} on {config.suite}")


def _eval_for_job(ctx, suite: str, model: str | None, params: dict, name: str | None) -> int:
    """The eval row this job fills; a resumed job finds the one it created before."""
    for row in ctx.store.list_evals(limit=10_000):
        if row["job_id"] == ctx.job_id:
            return row["id"]
    return ctx.store.create_eval(suite, model, params, name=name, job_id=ctx.job_id)


def eval_generate_job(ctx) -> dict:
    config = EvalConfig.from_dict(ctx.params).validate()
    store = ctx.store
    if config.suite == "humaneval":
        import_humaneval(store)
    tasks = list(load_tasks(store, config.suite).values())
    if config.limit:
        tasks = tasks[:config.limit]
    eval_id = _eval_for_job(ctx, config.suite, config.model, config.to_dict(), config.name or None)
    with _marks_failure(store, eval_id):
        store.update_eval(eval_id, status="generating")
        from pipeline.models.export_gguf import ensure_gguf

        ensure_gguf(store, config.model, config.engine, log=ctx.log)
        done = store.eval_sample_keys(eval_id)
        todo = [(t, i) for t in tasks for i in range(config.n_samples) if (t["task_id"], i) not in done]
        total = len(tasks) * config.n_samples
        ctx.log(f"eval {eval_id}: {len(todo)} of {total} samples to generate"
                + (" (resumed)" if ctx.resumed else ""))
        ctx.progress(total - len(todo), total, "generating (loading the model)", force=True)
        tokens = TokenCount(ctx, total)
        for start in range(0, len(todo), max(1, config.batch_size)):
            batch = todo[start:start + config.batch_size]
            tokens.start_batch(total - len(todo) + start)
            store.add_eval_samples(eval_id, generate_batch(config, batch, on_tokens=tokens))
            ctx.progress(total - len(todo) + start + len(batch), total, tokens.message())
        store.update_eval(eval_id, status="generated")
        if not config.execute:
            return {"eval_id": eval_id, "generated": total}
        metrics = execute_eval(ctx, eval_id, SandboxLimits(timeout_s=config.timeout_s,
                                                           allow_weak=config.allow_weak_sandbox),
                               config.workers or None)
    return {"eval_id": eval_id, "metrics": metrics}


@contextmanager
def _marks_failure(store, eval_id: int):
    """An eval whose job failed or was cancelled says so (a resume sets it going again)."""
    try:
        yield
    except BaseException as exc:
        store.update_eval(eval_id, status="failed", error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        raise


class TokenCount:
    """Live progress inside a batch: samples answered so far (rows of the running batch count as
    they end) and tokens generated with their rate, so the counter moves while a batch works."""

    def __init__(self, ctx, total: int):
        self.ctx, self.total, self.samples_done, self.tokens = ctx, total, 0, 0
        self.in_batch = 0
        self.started = time.monotonic()

    def start_batch(self, samples_done: int) -> None:
        self.samples_done, self.in_batch = samples_done, 0

    def message(self) -> str:
        rate = self.tokens / max(1e-6, time.monotonic() - self.started)
        return (f"generating: {self.samples_done + self.in_batch}/{self.total} answered · "
                f"{self.tokens} tokens ({rate:.1f} tokens/s)")

    def __call__(self, n: int, finished: int | None = None) -> None:
        self.tokens += n
        if finished is not None:
            self.in_batch = max(self.in_batch, finished)
        self.ctx.progress(self.samples_done + self.in_batch, self.total, self.message())


def generate_batch(config: EvalConfig, batch: list[tuple[dict, int]], on_tokens=None) -> list[dict]:
    """One generate() call (two for `explain`) for a batch of (task, sample_idx)."""
    from pipeline.models import GenParams, engine_of, generate

    chat = config.prompt_format == "chat"

    def params_for(task) -> GenParams:
        # Chat replies end by themselves (the backend knows the template's end marker); plain
        # continuations would run into the next function without the language's stop words.
        return GenParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature,
                         top_p=config.top_p, seed=config.seed, batch_size=config.batch_size,
                         stop=[] if chat else stop_words(task.get("language")), engine=config.engine)

    descriptions: Sequence[str | None] = [None] * len(batch)
    if config.task_type == "explain":
        asks = [describe_prompt(t, config.prompt_format) for t, _ in batch]
        tokens_only = (lambda n, finished=None: on_tokens(n)) if on_tokens else None  # answers come next
        descriptions = generate(config.model, asks, params_for(batch[0][0]), on_tokens=tokens_only)
    prompts = [build_prompt(t, config.prompt_format, config.task_type, d)
               for (t, _), d in zip(batch, descriptions)]
    # One language per suite, so one set of stop words per batch.
    params = params_for(batch[0][0])
    raws = generate(config.model, prompts, params, on_tokens=on_tokens)
    used = engine_of(config.model, config.engine)
    rows = []
    for (task, idx), prompt, raw in zip(batch, prompts, raws):
        language = normalize_language(task.get("language"))
        if chat:
            completion, mode = completion_from_chat(raw, language, program_prefix(task, config.task_type),
                                                    task.get("entry_point"))
        else:
            completion, mode = finish_continuation(raw, language), "continuation"
        rows.append({"task_id": task["task_id"], "sample_idx": idx, "prompt": prompt, "raw": raw,
                     "completion": completion, "mode": mode,
                     "stop_words": params.stop or END_OF_TEXT, **used})
    return rows


def eval_execute_job(ctx) -> dict:
    eval_id = int(ctx.params["eval_id"])
    limits = SandboxLimits(timeout_s=float(ctx.params.get("timeout_s") or 3.0),
                           allow_weak=bool(ctx.params.get("allow_weak_sandbox")))
    with _marks_failure(ctx.store, eval_id):
        metrics = execute_eval(ctx, eval_id, limits, int(ctx.params.get("workers") or 0) or None)
    return {"eval_id": eval_id, "metrics": metrics}


def execute_eval(ctx, eval_id: int, limits: SandboxLimits, workers: int | None) -> dict:
    """Run every sample without a verdict, store verdicts (and syntax validity), then metrics."""
    require_execution_allowed()
    store = ctx.store
    row = store.get_eval(eval_id)
    task_type = row["params"].get("task_type", "synthesize")
    tasks = {tid: dict(t, prompt=program_prefix(t, task_type))
             for tid, t in load_tasks(store, row["suite"]).items()}
    pending = store.eval_samples(eval_id, pending_only=True)
    total = len(store.eval_samples(eval_id))
    already = total - len(pending)
    store.update_eval(eval_id, status="executing")
    ctx.log(f"eval {eval_id}: executing {len(pending)} samples ({already} already scored)")
    ctx.progress(already, total, "executing")
    with ExecutionPool(workers, limits) as pool:
        for start in range(0, len(pending), EXECUTE_BATCH):
            chunk = pending[start:start + EXECUTE_BATCH]
            verdicts = execute_samples(tasks, chunk, pool=pool)
            validity = check_validity(tasks, chunk) or [{}] * len(chunk)
            store.record_verdicts(eval_id, [dict(v, **{k: w[k] for k in ("valid", "findings") if k in w})
                                            for v, w in zip(verdicts, validity)])
            ctx.progress(already + start + len(chunk), total, "executing")
        ctx.log(f"executed {pool.executed} distinct programs for {len(pending)} samples")
    metrics = compute_metrics(store, eval_id)
    store.update_eval(eval_id, status="done", metrics=metrics)
    return metrics


def compute_metrics(store, eval_id: int) -> dict:
    """pass@k for every k <= n (base and extended tests), verdict counts, validity rate."""
    samples = store.eval_samples(eval_id)
    base: dict[str, list[bool]] = {}
    plus: dict[str, list[bool]] = {}
    verdicts: dict[str, int] = {}
    valid = [s["valid"] for s in samples if s["valid"] is not None]
    for s in samples:
        if s["verdict"] is None:
            continue
        base.setdefault(s["task_id"], []).append(bool(s["passed"]))
        verdicts[s["verdict"]] = verdicts.get(s["verdict"], 0) + 1
        if s["passed_plus"] is not None:
            plus.setdefault(s["task_id"], []).append(bool(s["passed"]) and bool(s["passed_plus"]))
    metrics = {"tasks": len(base), "samples": sum(verdicts.values()), "verdicts": verdicts,
               "pass_at_k": {str(k): v for k, v in pass_at_k_table(base).items()}}
    if plus:
        metrics["pass_at_k_plus"] = {str(k): v for k, v in pass_at_k_table(plus).items()}
    if valid:
        metrics["validity_rate"] = sum(1 for v in valid if v) / len(valid)
    return metrics
