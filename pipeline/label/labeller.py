"""Labeller: snippets -> instruction pairs, written by an LLM (godot-dodo's method) or taken from docstrings.

    python -m pipeline label estimate --model gpt-4o-mini --language gdscript
    python -m pipeline label run --model gpt-4o-mini --budget-usd 2 --concurrency 16 --wait
    python -m pipeline label retry-failed --model gpt-4o-mini --wait

A pair is keyed by (snippet, prompt version, model); the store's UNIQUE index makes a second pair
for a key impossible. Each result is written the moment its reply arrives, in its own transaction
together with its ledger row, so a resumed job skips what is stored and never pays twice for a
stored reply. The one gap, by nature of chat completions (no server-side idempotency key): a reply
that had arrived but was not yet committed when the process died (a SIGKILL in the few ms between
the HTTP response and the commit) is requested, and paid, again on resume. The Batch API mode
(pipeline/label_batch.py) has no such gap. Local models go through `pipeline.models.generate`.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Protocol

from pipeline.config import JobConfig
from pipeline.errors import ConfigError
from pipeline.label.cost import Estimate, estimate, price_for
from pipeline.label.engine import RequestTally
from pipeline.label.prompts import DEFAULT_TEMPLATE_NAME, LABEL_FIELDS
from pipeline.label.replies import clean_docstring, clean_reply
from pipeline.languages import display_name
from pipeline.store import StoreError

DOCSTRING = "docstring"                 # the offline labeller's name, also its prompt version
API_KEY_ENV = "STUDIO_LABEL_API_KEY"    # set for one job's child only; never stored


@dataclass
class LabelConfig(JobConfig):
    model: str = field(default="", metadata={"help": "registered model that writes the instructions, or "
                                                     "'docstring' to use each snippet's own docstring (offline, free)"})
    prompt: str = field(default=DEFAULT_TEMPLATE_NAME,
                        metadata={"help": "prompt template name, or name@version (default: its latest version)"})
    language: str | None = field(default=None, metadata={"help": "only snippets in this language (e.g. gdscript)"})
    repo: str | None = field(default=None, metadata={"help": "only snippets of this repo (owner/name or id)"})
    limit: int | None = field(default=None, metadata={"help": "label at most this many snippets", "min": 1})
    concurrency: int = field(default=8, metadata={"help": "requests in flight at once (prompts per batch "
                                                           "for local models)", "min": 1})
    budget_usd: float | None = field(default=None, metadata={"help": "stop before this job spends more than "
                                                                      "this many dollars (all its attempts)", "min": 0})
    batch: bool = field(default=False, metadata={"help": "use the OpenAI Batch API: half price, results within 24h"})
    retry_failed: bool = field(default=False, metadata={"help": "label again only snippets whose pair failed"})
    max_new_tokens: int = field(default=256, metadata={"help": "longest reply, in tokens", "min": 1})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature of the labeller", "min": 0})
    expected_output_tokens: int = field(default=60, metadata={"help": "reply length the estimate and the "
                                                                       "budget check assume, in tokens", "min": 1})
    max_retries: int = field(default=5, metadata={"help": "retries per request on 429/5xx/timeouts", "min": 0})
    backoff_base_s: float = field(default=1.0, metadata={"help": "first retry delay scale; doubles per attempt", "min": 0})
    backoff_max_s: float = field(default=60.0, metadata={"help": "longest delay between retries", "min": 0})
    request_timeout_s: float = field(default=60.0, metadata={"help": "give up on one request after this long", "min": 0.001})
    batch_poll_s: float = field(default=30.0, metadata={"help": "Batch API: seconds between status checks", "min": 0.01})
    batch_max_requests: int = field(default=50_000, metadata={"help": "Batch API: requests per batch file", "min": 1, "max": 50_000})

    def check(self) -> None:
        if not (self.model or "").strip():
            raise ConfigError("choose a model to label with (or 'docstring'): --model")


@dataclass
class Plan:
    """What a run will do: the resolved model and template, the key, and the snippets left."""
    config: LabelConfig
    model: dict
    template: dict | None
    labeller: str
    prompt_version: str
    snippets: list[dict]

    def messages(self, snippet: dict) -> list[dict]:
        if self.template is None:  # the docstring labeller sends no prompt
            raise TypeError("a docstring plan has no prompt template to render")
        return render_messages(self.template, snippet)

    def pair(self, snippet: dict, **values) -> dict:
        """A pairs row for this snippet: the code is the output, the instruction comes from the label."""
        return {"origin": DOCSTRING if self.labeller == DOCSTRING else "label", "snippet_id": snippet["id"],
                "repo_id": snippet.get("repo_id"), "path": snippet.get("path"), "language": snippet.get("language"),
                "labeller": self.labeller, "prompt_version": self.prompt_version, "output": snippet["code"],
                "input": "", **values}


def make_plan(store, config: LabelConfig, exclude_ids: set[int] | None = None) -> Plan:
    config.validate()
    if config.model == DOCSTRING:
        model, template, labeller, version = {"name": DOCSTRING, "kind": DOCSTRING}, None, DOCSTRING, DOCSTRING
    else:
        model = store.get_model(config.model)
        if model["kind"] == "openai" and not (model.get("endpoint") and model.get("path")):
            raise StoreError(f"model {model['name']!r} needs an endpoint URL and a model id to label with")
        name, _, ver = config.prompt.partition("@")
        if ver and not ver.isdigit():
            raise StoreError(f"prompt {config.prompt!r}: the version after '@' must be a number")
        template = store.get_prompt_template(name.strip(), int(ver) if ver else None)
        labeller, version = model["name"], f"{template['name']}@{template['version']}"
    snippets = store.snippets_for_labelling(
        labeller, version, language=config.language, repo=config.repo, limit=config.limit,
        failed_only=config.retry_failed, need_docstring=config.model == DOCSTRING, exclude_ids=exclude_ids)
    return Plan(config, model, template, labeller, version, snippets)


def project_context(snippet: dict) -> str:
    """'Project context: … the Godot 4.x project owner/name, file player.gd. …' from the snippet's repo."""
    engine = (snippet.get("engine_version") or "").strip()
    if engine and (snippet.get("language") or "").lower() == "gdscript" and "godot" not in engine.lower():
        engine = f"Godot {engine}"
    where = f"the {engine} project" if engine else "the project"
    text = f"Project context: the code is from {where}"
    text += f" {snippet['repo']}" if snippet.get("repo") else ""
    text += f", file {snippet['path']}." if snippet.get("path") else "."
    return text + (f" It targets {engine}; the instruction should say so." if engine else "")


def prompt_fields(snippet: dict) -> dict:
    lang = (snippet.get("language") or "").strip()
    return {"code": (snippet.get("code") or "").rstrip(), "language": display_name(lang),
            "name": snippet.get("name") or "(anonymous)", "kind": snippet.get("kind") or "function",
            "path": snippet.get("path") or "", "repo": snippet.get("repo") or "",
            "engine_version": snippet.get("engine_version") or "", "context": project_context(snippet)}


def render_messages(template: dict, snippet: dict) -> list[dict]:
    values = prompt_fields(snippet)
    try:
        user = template["template"].format_map(values)
        system = template["system"].format_map(values) if template.get("system") else None
    except (KeyError, IndexError, ValueError) as exc:
        raise StoreError(f"prompt {template['name']}@{template['version']} cannot be filled ({exc!r}); "
                         f"save a new version using only {', '.join(LABEL_FIELDS)}") from None
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]


def save_label_prompt(store, name: str, template: str, system: str | None = None) -> dict:
    """Save an edited template as the next version of `name`."""
    if "{code}" not in (template or ""):
        raise StoreError("a label template must include {code}, where the snippet goes")
    return store.save_prompt_template(name, template, system, purpose="label", allowed_fields=LABEL_FIELDS)


def preview_messages(store, config: LabelConfig) -> list[dict] | None:
    """The messages the first snippet of this run would be sent (None when nothing is left)."""
    plan = make_plan(store, LabelConfig(**{**asdict(config), "limit": 1}))
    if not plan.snippets:
        return None
    if plan.labeller == DOCSTRING:
        return [{"role": "docstring", "content": clean_docstring(plan.snippets[0].get("docstring")) or ""}]
    return plan.messages(plan.snippets[0])


def estimate_labelling(store, config: LabelConfig) -> Estimate:
    """Tokens and dollars for the snippets this config would label now (nothing is sent)."""
    plan = make_plan(store, config)
    if plan.labeller == DOCSTRING:
        return Estimate(len(plan.snippets), 0, 0, 0.0, True, False,
                        notes=["docstring labeller: no model calls, free"])
    est = estimate(store, plan.model, [plan.messages(s) for s in plan.snippets],
                   config.expected_output_tokens, config.batch)
    if config.budget_usd is not None and est.price_known and est.cost > config.budget_usd and est.snippets:
        fits = int(config.budget_usd / (est.cost / est.snippets))
        est.notes.append(f"over the ${config.budget_usd:g} budget: the run will stop after about {fits} snippets")
    return est


# -- running ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    snippet_id: int
    ok: bool
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    error: str | None = None


class Tally(RequestTally):
    """Counts for the labelling job's progress message and result."""

    def message(self) -> str:
        rate = self.rate()
        eta = f"ETA {(self.total - self.done) / rate:.0f}s" if rate else "ETA -"
        return f"{self.done}/{self.total} · {self.ok} labelled · {self.failed} failed · {eta} · {self.usage()}"

    def result(self, plan: Plan, stopped: str | None = None, **extra) -> dict:
        left = self.total - self.done
        if stopped == "budget":
            note = (f"stopped at the ${plan.config.budget_usd:g} budget: {left} snippets left unlabelled; "
                    f"raise the budget and run again to continue")
        else:
            note = f"{self.ok} labelled, {self.failed} failed" + (" (see failed rows; retry them)" if self.failed else "")
        return {"labeller": plan.labeller, "prompt_version": plan.prompt_version, "labelled": self.ok,
                "failed": self.failed, "left": left, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
                "cost": round(self.spent, 6), "stopped": stopped, "message": note, **extra}


def _no_progress(done, total=None, message=None, force=False) -> None:
    pass


class Runner(Protocol):
    """How a plan is labelled (docstrings, a local model, an endpoint); returns "budget" when the
    budget stopped it. Each takes the keywords it needs and ignores the rest."""
    def __call__(self, store, plan: Plan, tally: Tally, *, api_key: str | None, job_id: int | None,
                 progress, log) -> str | None: ...


def run_labelling(store, config: LabelConfig, *, api_key: str | None = None, job_id: int | None = None,
                  progress=_no_progress, log=print) -> dict:
    """Label what is left for this config; returns counts, tokens, cost and why it stopped."""
    if config.batch:
        from pipeline.label.batch import run_batch

        return run_batch(store, config, api_key=api_key, job_id=job_id, progress=progress, log=log)
    plan = make_plan(store, config)
    tally = Tally(len(plan.snippets), store.label_spend(job_id)["cost"] if job_id else 0.0)
    log(f"labelling {tally.total} snippets with {plan.labeller} ({plan.prompt_version})")
    progress(0, tally.total, tally.message(), force=True)
    runner: Runner
    if plan.labeller == DOCSTRING:
        runner = _run_docstring
    elif plan.model["kind"] == "openai":
        from pipeline.label.endpoint import run_endpoint as runner
    else:
        runner = _run_local
    stopped = runner(store, plan, tally, api_key=api_key, job_id=job_id, progress=progress, log=log)
    result = tally.result(plan, stopped)
    progress(tally.done, tally.total, result["message"], force=True)
    log(result["message"])
    return result


def _run_docstring(store, plan: Plan, tally: Tally, *, progress, **_) -> None:
    for snippet in plan.snippets:
        instruction = clean_docstring(snippet.get("docstring"))
        error = None if instruction else "the docstring is empty once comment markers are removed"
        store.record_label(plan.pair(snippet, instruction=instruction or "", raw_reply=snippet.get("docstring"),
                                     status="draft" if instruction else "failed", error=error,
                                     tokens_in=0, tokens_out=0, cost=0.0, latency_ms=0.0))
        tally.add(Outcome(snippet["id"], bool(instruction), error=error))
        progress(tally.done, tally.total, tally.message())


def _run_local(store, plan: Plan, tally: Tally, *, job_id, progress, log, **_) -> str | None:
    from pipeline.label.engine import run_local_batches

    def handle(snippet, messages, reply, t_in, t_out, cost, latency) -> Outcome:
        instruction, reason = clean_reply(reply, snippet["code"])
        store.record_label(
            plan.pair(snippet, instruction=instruction or "", status="draft" if instruction else "failed",
                      error=reason, raw_reply=reply, tokens_in=t_in, tokens_out=t_out, cost=cost,
                      latency_ms=latency),
            {"job_id": job_id, "outcome": "ok" if instruction else "rejected", "tokens_in": t_in,
             "tokens_out": t_out, "cost": cost})
        return Outcome(snippet["id"], bool(instruction), t_in, t_out, cost, reason)

    return run_local_batches(plan.snippets, plan.messages, handle, model=plan.model, settings=plan.config,
                             price=price_for(store, plan.model), budget_usd=plan.config.budget_usd,
                             tally=tally, progress=progress)


# -- jobs ------------------------------------------------------------------------------------
def label_job(ctx) -> dict:
    """Job kinds "label" and "label_batch": the key, if the UI gave one, arrives in our env only."""
    api_key = os.environ.pop(API_KEY_ENV, None)  # popped so nothing this job starts inherits it
    config = LabelConfig.from_dict(ctx.params)
    if ctx.resumed:
        ctx.log("resumed: snippets already stored for this model and prompt are skipped")
    return run_labelling(ctx.store, config, api_key=api_key, job_id=ctx.job_id, progress=ctx.progress,
                         log=ctx.log)


def start_labelling(store, config: LabelConfig, api_key: str | None = None) -> int:
    """Check the config, then start the labelling job; returns the job id."""
    from pipeline import jobs

    plan = make_plan(store, config)
    if not plan.snippets:
        what = "failed rows to retry" if config.retry_failed else "unlabelled snippets"
        raise StoreError(f"no {what} for {plan.labeller} with {plan.prompt_version} and these filters")
    if config.batch and plan.model.get("kind") != "openai":
        raise StoreError("the Batch API needs an OpenAI-compatible endpoint model")
    if config.budget_usd is not None and plan.labeller != DOCSTRING and price_for(store, plan.model) is None:
        raise StoreError(f"no price for {plan.model.get('path')!r}: add one to the prices table to use a budget")
    verb = "retry" if config.retry_failed else "label"
    title = f"{verb} {len(plan.snippets)} snippets with {plan.labeller} ({plan.prompt_version})"
    return jobs.submit(store, "label_batch" if config.batch else "label", asdict(config), title,
                       env={API_KEY_ENV: api_key} if api_key else None)
