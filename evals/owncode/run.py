"""The own-code eval: a model answers every held-out test item of a frozen dataset, and each answer
is scored against the human-written code.

    job_id = submit_owncode(store, OwnCodeConfig(model="tuned", dataset="mycode"))
    python -m evals owncode run --model tuned --dataset mycode --wait

For each test item the model gets the pair's instruction (and input) as a chat message, through
pipeline.models.generate — so any registered model works: a base model, a checkpoint, a GGUF
file, an endpoint. The code is taken from the reply (the fenced block, else the whole reply) and
scored: chrF and exact match against the reference, syntax validity in the pair's language, the
reference's per-token loss under the model (local models), and — where the reference carries
Python doctests — those examples run against the answer in the sandbox. Items are stored as they
are answered, so a resumed job answers only the rest.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evals.owncode import score
from pipeline.config import JobConfig
from pipeline.errors import ConfigError, StudioError

if TYPE_CHECKING:
    from evals.sandbox import SandboxWorker


class OwnCodeError(StudioError):
    """An own-code eval cannot run; the message says what to change."""


@dataclass
class OwnCodeConfig(JobConfig):
    model: str = field(default="", metadata={"help": "registered model that answers (base, checkpoint, GGUF, endpoint)"})
    dataset: str = field(default="", metadata={"help": "frozen dataset whose test split is asked: name (latest), name@version or id"})
    max_new_tokens: int = field(default=384, metadata={"help": "most tokens per answer", "min": 1})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0 = greedy, comparable runs)",
                                                      "min": 0.0, "max": 2.0})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    batch_size: int = field(default=8, metadata={"help": "prompts per generate() call", "min": 1})
    limit: int = field(default=0, metadata={"help": "only the first N test items (0 = all)", "min": 0})
    loss: bool = field(default=True, metadata={"help": "also score the reference's per-token loss (local models)"})
    doctests: bool = field(default=True, metadata={"help": "run the reference's Python doctests against the answer in the sandbox"})
    timeout_s: float = field(default=3.0, metadata={"help": "wall-clock seconds per doctest run", "min": 0.1})
    allow_weak_sandbox: bool = field(default=False, metadata={
        "help": "run doctests even where the sandbox lacks its minimum protections; recorded with the eval"})
    name: str = field(default="", metadata={"help": "a label for this eval (optional)"})
    compare_with: int = field(default=0, metadata={
        "help": "id of a baseline own-code eval on the same dataset: when done, the paired verdict against it "
                "is stored with this eval (0 = none)", "min": 0})

    def check(self) -> None:
        if not self.model:
            raise ConfigError("choose a model to evaluate (--model)")
        if not self.dataset:
            raise ConfigError("choose a frozen dataset whose test split to use (--dataset)")


def resolve_dataset(store, ref) -> dict:
    """A frozen dataset from its id, 'name' (latest version) or 'name@version'."""
    if isinstance(ref, int) or str(ref).isdigit():
        return store.get_dataset_by_id(int(ref))
    return store.get_dataset(str(ref))


def held_out_items(store, dataset_ref) -> tuple[dict, list[dict]]:
    dataset = resolve_dataset(store, dataset_ref)
    items = store.test_examples(dataset["id"])
    if not items:
        raise OwnCodeError(
            f"dataset {dataset['name']}@{dataset['version']} has no test split "
            f"({dataset.get('split_info', {}).get('note') or 'frozen without one'}); freeze it again "
            f"with --test-fraction above 0 and at least 20 pairs")
    return dataset, items


def submit_owncode(store, config: OwnCodeConfig) -> int:
    from pipeline import jobs

    config.validate()
    store.get_model(config.model)
    dataset, _ = held_out_items(store, config.dataset)
    return jobs.submit(store, "owncode_eval", config.to_dict(),
                       title=f"own-code eval {config.model} on {dataset['name']}@{dataset['version']}")


def owncode_eval_job(ctx) -> dict:
    config = OwnCodeConfig.from_dict(ctx.params)
    existing = ctx.store.owncode_eval_for_job(ctx.job_id)
    eval_id = run_owncode(ctx.store, config, eval_id=existing["id"] if existing else None, job_id=ctx.job_id,
                          progress=ctx.progress, log=ctx.log)
    return {"eval_id": eval_id, "metrics": ctx.store.get_owncode_eval(eval_id)["metrics"]}


def run_owncode(store, config: OwnCodeConfig, *, eval_id: int | None = None, job_id: int | None = None,
                progress=None, log=print) -> int:
    """Answer and score every test item not answered yet; returns the eval's id."""
    from pipeline import models

    config.validate()
    dataset, items = held_out_items(store, config.dataset)
    if config.limit:
        items = items[:config.limit]
    if config.compare_with:
        baseline = store.get_owncode_eval(config.compare_with)
        if baseline["dataset_id"] != dataset["id"]:
            raise OwnCodeError(f"--compare-with {config.compare_with} is an eval of {baseline['dataset']}, not of "
                               f"{dataset['name']}@{dataset['version']}: a verdict needs the same held-out items")
    spec = models.resolve(store.get_model(config.model))   # this store's row, whatever STUDIO_HOME says
    if eval_id is None:
        params = dict(config.to_dict(), model_kind=spec["kind"], items=len(items))
        eval_id = store.create_owncode_eval(dataset, config.model, params, name=config.name or None, job_id=job_id)
    progress = progress or (lambda *a, **k: None)
    try:
        done = store.owncode_done_positions(eval_id)
        todo = [it for it in items if it["position"] not in done]
        log(f"own-code eval {eval_id}: {len(todo)} of {len(items)} held-out items to answer")
        progress(len(items) - len(todo), len(items), "answering (loading the model)", force=True)
        doctests = _DoctestRunner(config) if config.doctests else None
        try:
            for start in range(0, len(todo), config.batch_size):
                batch = todo[start:start + config.batch_size]
                store.add_owncode_items(eval_id, answer_and_score(spec, batch, config, doctests))
                progress(len(items) - len(todo) + start + len(batch), len(items), "answering and scoring")
        finally:
            if doctests:
                doctests.close()
        metrics = summarize(store.owncode_items(eval_id))
        if doctests and doctests.skipped:
            metrics["doctests_skipped"] = doctests.skipped
        if config.compare_with:
            from evals.owncode.compare import compare_owncode

            store.update_owncode_eval(eval_id, status="done", metrics=metrics)
            result = compare_owncode(store, config.compare_with, eval_id)
            metrics.update(verdict=result["headline"], verdict_vs=config.compare_with,
                           significant=result["metrics"][0]["significant"])
        store.update_owncode_eval(eval_id, status="done", metrics=metrics)
    except BaseException as exc:
        store.update_owncode_eval(eval_id, status="failed", error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        raise
    return eval_id


def answer_and_score(spec: dict, batch: list[dict], config: OwnCodeConfig, doctests=None) -> list[dict]:
    from evals.passk.postprocess import extract_code
    from pipeline.models import GenParams, generate
    from pipeline.models.templates import to_messages

    prompts = [to_messages(it["instruction"], it["input"]) for it in batch]
    params = GenParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed,
                       batch_size=config.batch_size)
    raws = generate(spec, prompts, params)
    rows = []
    for it, messages, raw in zip(batch, prompts, raws):
        answer = extract_code(raw or "", it.get("language") or "python") if (raw or "").strip() else ""
        reference = it["output"]
        valid, problems = score.validity(answer, it.get("language"))
        detail = {"validity": problems} if problems else {}
        row = {"position": it["position"], "pair_id": it["pair_id"], "language": it.get("language"),
               "instruction": it["instruction"] + (f"\n\n{it['input']}" if it.get("input") else ""),
               "reference": reference, "prompt": messages, "raw": raw, "answer": answer,
               "chrf": score.chrf(answer, reference), "exact": int(score.exact_match(answer, reference)),
               "valid": valid, "loss": None, "doctest": None}
        if config.loss:
            row["loss"] = score.reference_loss(spec, messages, reference)
        source = score.doctest_source(reference, it.get("language"), it["instruction"]) if doctests else None
        if source:
            row["doctest"], detail["doctest"] = doctests.run(answer, source)
        row["detail"] = detail
        rows.append(row)
    return rows


class _DoctestRunner:
    """One sandbox worker for the whole eval, started on the first item with doctests; where code
    may not run here (hosted, or no minimum protections) doctests are skipped and the reason kept."""

    def __init__(self, config: OwnCodeConfig):
        self.config = config
        self.worker: SandboxWorker | None = None
        self.skipped: str | None = None

    def run(self, answer: str, source: str) -> tuple[str | None, str]:
        from evals.sandbox import SandboxLimits, SandboxWorker, execution_allowed

        if self.skipped:
            return None, self.skipped
        if not answer.strip():
            return "failed", "empty answer"
        if self.worker is None:
            allowed, why = execution_allowed()
            if not allowed:
                self.skipped = f"doctests not run: {why}"
                return None, self.skipped
            limits = SandboxLimits(timeout_s=self.config.timeout_s, allow_weak=self.config.allow_weak_sandbox)
            try:
                self.worker = SandboxWorker(limits).__enter__()
            except StudioError as exc:
                self.skipped = f"doctests not run: {exc}"
                return None, self.skipped
            self.limits = limits
        result = self.worker.run(score.doctest_job(answer, source, self.limits))
        verdict = "passed" if result.get("status") == "passed" else "failed"
        return verdict, (result.get("error") or "")[:500]

    def close(self) -> None:
        if self.worker is not None:
            self.worker.__exit__(None, None, None)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(values) / len(values) if values else None


def summarize(items: list[dict]) -> dict:
    """The eval's figures: means over the items each score applies to, with those counts."""
    tested = [i for i in items if i.get("doctest") in ("passed", "failed")]
    return {"items": len(items), "chrf": _mean([i["chrf"] for i in items]),
            "exact": _mean([i["exact"] for i in items]),
            "valid": _mean([i["valid"] for i in items]), "checked": sum(i["valid"] is not None for i in items),
            "loss": _mean([i["loss"] for i in items]), "loss_items": sum(i["loss"] is not None for i in items),
            "doctest": _mean([i["doctest"] == "passed" for i in tested]), "doctest_items": len(tested),
            "empty": sum(not (i.get("answer") or "").strip() for i in items)}
