"""A judged eval: contestants answer a judge suite, a judge model scores the answers, figures follow.

    python -m evals judge run --judge gpt-4o-mini --contestants base tuned --mode pairwise --wait

Two resumable phases in one job. Answers: each contestant answers each item (batched through
`pipeline.models.generate`), stored per (run, model, item) as they come. Judging: through the
labeller's request engine (`pipeline.label.engine`: N requests in flight, retries with backoff,
budget reserved in flight) for an endpoint judge, or batched generation for a local one. A reply
whose verdict cannot be parsed is asked again (up to `parse_retries` times, every attempt paid and
counted) and then stored as unparseable with its raw text — never guessed. A local judge instead
(by default) fills the verdict line itself with its likeliest valid values (evals/judge/constrained.py,
constrained decoding), and the judgment is marked `constrained`. Each judgment is written
the moment it is final, with the judge, prompt, raw reply, tokens and cost, so a resumed job skips
it and pays for nothing twice. `--batch` sends the judge requests through the OpenAI Batch API
instead (evals/judge/batch.py, the labeller's batch machinery), at the batch price.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from evals.judge.requests import MAX_SYSTEMS, MODES, VerdictError, plan_requests, read_verdict
from evals.judge.suites import BUILTIN_NAME
from pipeline.config import JobConfig
from pipeline.errors import ConfigError
from pipeline.label.engine import RequestTally

API_KEY_ENV = "STUDIO_JUDGE_API_KEY"   # set for one job's child only; never stored


@dataclass
class JudgeConfig(JobConfig):
    judge: str = field(default="", metadata={"help": "registered model that judges (endpoint or local)"})
    contestants: list[str] = field(default_factory=list, metadata={"help": "registered models whose answers "
                                                                           "are judged (1-5; 2+ for pairwise)"})
    mode: str = field(default="single", metadata={"help": "multi (0-10 per system, DreamerGPT), single "
                                                          "(1-10, MT-bench, reference-guided), pairwise (A/B/tie, "
                                                          "both orders) or rubric (syntax/functionality/verbosity)",
                                                  "choices": MODES})
    suite: str = field(default=BUILTIN_NAME, metadata={"help": "judge suite name"})
    name: str = field(default="", metadata={"help": "a label for this judged eval (optional)"})
    limit: int = field(default=0, metadata={"help": "only N items, taken across the categories in turn (0 = all)",
                                            "min": 0})
    categories: list[str] = field(default_factory=list, metadata={"help": "only these categories (empty = all)"})
    seed: int = field(default=0, metadata={"help": "seed of the per-item system order (multi mode)"})
    concurrency: int = field(default=8, metadata={"help": "judge requests in flight (prompts per batch for a "
                                                          "local judge)", "min": 1, "max": 256})
    budget_usd: float | None = field(default=None, metadata={"help": "stop before judging spends more than this "
                                                                     "many dollars", "min": 0})
    max_new_tokens: int = field(default=384, metadata={"help": "longest judge reply, in tokens", "min": 1})
    temperature: float = field(default=0.0, metadata={"help": "judge sampling temperature", "min": 0})
    parse_retries: int = field(default=2, metadata={"help": "ask again this many times when a verdict cannot "
                                                            "be parsed", "min": 0, "max": 10})
    retry_temperature: float = field(default=0.7, metadata={"help": "a local judge's temperature when asked "
                                                                    "again (greedy would repeat itself)", "min": 0})
    constrain_verdicts: bool = field(default=True, metadata={
        "help": "local judge: when a reply holds no valid verdict, the judge fills the verdict line with its own "
                "likeliest valid values (constrained decoding, marked per judgment) instead of being asked again"})
    expected_output_tokens: int = field(default=150, metadata={"help": "reply length the budget check assumes",
                                                               "min": 1})
    max_retries: int = field(default=5, metadata={"help": "retries per request on 429/5xx/timeouts", "min": 0})
    backoff_base_s: float = field(default=1.0, metadata={"help": "first retry delay scale; doubles per attempt",
                                                         "min": 0})
    backoff_max_s: float = field(default=60.0, metadata={"help": "longest delay between retries", "min": 0})
    request_timeout_s: float = field(default=60.0, metadata={"help": "give up on one request after this long",
                                                             "min": 0.01})
    answer_max_new_tokens: int = field(default=256, metadata={"help": "longest contestant answer, in tokens",
                                                              "min": 1})
    answer_batch_size: int = field(default=8, metadata={"help": "contestant prompts per generate call", "min": 1})
    batch: bool = field(default=False, metadata={"help": "judge through the OpenAI Batch API: half price, results "
                                                         "within 24h (endpoint judges only)"})
    batch_poll_s: float = field(default=30.0, metadata={"help": "Batch API: seconds between status checks",
                                                        "min": 0})

    def check(self) -> None:
        if not self.judge.strip():
            raise ConfigError("choose a judge model (--judge)")
        if not self.contestants:
            raise ConfigError("choose at least one contestant model (--contestants A B …)")
        if len(set(self.contestants)) != len(self.contestants):
            raise ConfigError("a contestant is listed twice")
        if len(self.contestants) > MAX_SYSTEMS:
            raise ConfigError(f"at most {MAX_SYSTEMS} contestants per judged eval")
        if self.mode == "pairwise" and len(self.contestants) < 2:
            raise ConfigError("pairwise judging needs two or more contestants")


@dataclass
class JudgeOutcome:
    ok: bool | None  # None: the verdict could not be parsed
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0


class JudgeTally(RequestTally):
    """Counts for the judging job's progress message; `unusable` are unparseable verdicts."""

    def message(self) -> str:
        return (f"judged {self.done}/{self.total} · {self.ok} ok · {self.unusable} unparseable · "
                f"{self.failed} failed · {self.usage()}")

def _items(store, cfg: JudgeConfig) -> list[dict]:
    from evals.judge.multiturn import expand_turns

    items = store.judge_items(cfg.suite)
    if cfg.categories:
        items = [i for i in items if i["category"] in cfg.categories]
    items = spread(items, cfg.limit) if cfg.limit else items
    return expand_turns(items, cfg.mode)  # a question of N turns is judged as N items


def spread(items: list[dict], n: int) -> list[dict]:
    """N items taken across the categories in turn (each category's first items first), in suite
    order: a quick judged eval still fills every row of the category table."""
    by_category: dict[str, list[dict]] = {}
    for item in items:
        by_category.setdefault(item["category"], []).append(item)
    chosen: set[int] = set()
    for depth in range(max((len(v) for v in by_category.values()), default=0)):
        for group in by_category.values():
            if len(chosen) < n and depth < len(group):
                chosen.add(id(group[depth]))
    return [i for i in items if id(i) in chosen]


def start_judging(store, cfg: JudgeConfig, api_key: str | None = None) -> tuple[int, int]:
    """Check everything a run needs, create the judged eval and start its job: (run id, job id)."""
    from evals.judge.suites import ensure_builtin_suite
    from pipeline import jobs
    from pipeline.label.cost import price_for

    cfg.validate()
    if cfg.suite == BUILTIN_NAME:
        ensure_builtin_suite(store)
    if not _items(store, cfg):
        raise ConfigError(f"no items in suite {cfg.suite!r} for these categories/limit")
    judge = store.get_model(cfg.judge)
    for name in cfg.contestants:
        store.get_model(name)
    if cfg.batch and judge.get("kind") != "openai":
        raise ConfigError("the Batch API needs an OpenAI-compatible endpoint judge")
    if cfg.budget_usd is not None and price_for(store, judge) is None:
        raise ConfigError(f"no price for {judge.get('path')!r}: add one (`python -m pipeline label prices set`) "
                          "to use a budget")
    run_id = store.create_judge_run(cfg.suite, cfg.mode, cfg.judge, cfg.contestants, cfg.to_dict(),
                                    name=cfg.name or None)
    title = f"judge ({cfg.mode}) {', '.join(cfg.contestants)} by {cfg.judge} on {cfg.suite}"
    job_id = jobs.submit(store, "judge", {**cfg.to_dict(), "run_id": run_id}, title,
                         env={API_KEY_ENV: api_key} if api_key else None)
    store.update_judge_run(run_id, job_id=job_id)
    return run_id, job_id


def estimate_judging(store, cfg: JudgeConfig):
    """Tokens and dollars of the judge requests this config would send (nothing is sent). Answers
    do not exist yet, so each is assumed to fill `answer_max_new_tokens` (an upper bound)."""
    from evals.judge.suites import ensure_builtin_suite
    from pipeline.label.cost import estimate

    cfg.validate()
    if cfg.suite == BUILTIN_NAME:
        ensure_builtin_suite(store)
    items = _items(store, cfg)
    filler = "word " * cfg.answer_max_new_tokens   # about one token per word
    answers = {(m, i["id"]): filler for m in cfg.contestants for i in items}
    requests = plan_requests(cfg.mode, items, cfg.contestants, answers, cfg.seed)
    est = estimate(store, store.get_model(cfg.judge), [r["messages"] for r in requests], cfg.expected_output_tokens,
                   cfg.batch)
    est.notes.append(f"{len(requests)} judge requests for {len(items)} items x {len(cfg.contestants)} contestants; "
                     f"answers assumed {cfg.answer_max_new_tokens} tokens; unparseable replies asked again cost more")
    return est


def judge_job(ctx) -> dict:
    """Job kind "judge": answers, then judgments, then figures; resumable at every step."""
    api_key = os.environ.pop(API_KEY_ENV, None)  # popped so nothing this job starts inherits it
    params = dict(ctx.params)
    run_id = int(params.pop("run_id"))
    cfg = JudgeConfig.from_dict(params)
    if ctx.resumed:
        ctx.log("resumed: stored answers and judgments are skipped")
    try:
        return run_judging(ctx.store, run_id, cfg, api_key=api_key, progress=ctx.progress, log=ctx.log)
    except BaseException as exc:  # the run row says how it ended; resuming the job continues it
        from pipeline.jobs import JobCancelled

        cancelled = isinstance(exc, (JobCancelled, KeyboardInterrupt))
        ctx.store.update_judge_run(run_id, status="stopped" if cancelled else "failed",
                                   error="cancelled; resume the job to continue" if cancelled
                                   else f"{type(exc).__name__}: {exc}")
        raise


def _no_progress(done, total=None, message=None, force=False) -> None:
    pass


def run_judging(store, run_id: int, cfg: JudgeConfig, *, api_key=None, progress=_no_progress, log=print) -> dict:
    from evals.judge.bias import summarize

    run = store.get_judge_run(run_id)
    items = _items(store, cfg)
    store.update_judge_run(run_id, status="answering", error=None)
    answer_all(store, run, items, cfg, progress, log)
    answers_rows = store.judge_answers(run_id)
    if cfg.mode == "rubric":
        check_syntax(store, run_id, items, answers_rows)
        answers_rows = store.judge_answers(run_id)
    answers = {k: r["answer"] for k, r in answers_rows.items()}
    store.update_judge_run(run_id, status="judging")
    stopped, tally = judge_all(store, run, items, answers, answers_rows, cfg, api_key, progress, log)
    metrics = summarize(run, store.judgments(run_id), answers, items, store.vote_tallies(),
                        {k: r["valid"] for k, r in answers_rows.items()})
    metrics["spend"] = store.judge_spend(run_id)
    if any(i.get("turn") for i in items):
        from evals.judge.multiturn import turn_summary

        metrics["turns"] = turn_summary(store.judgments(run_id), items)
    status = "stopped" if stopped else "done"
    note = (f"stopped at the ${cfg.budget_usd:g} budget; raise it and resume to finish" if stopped
            else f"{metrics['counts']['ok']} judgments, {metrics['counts']['unparseable']} unparseable, "
                 f"{metrics['counts']['failed']} failed")
    store.update_judge_run(run_id, status=status, metrics=metrics)
    progress(tally.done, tally.total, note, force=True)
    log(note)
    return {"run_id": run_id, "message": note, "stopped": stopped, **{k: metrics[k] for k in ("counts", "models")}}


def answer_all(store, run: dict, items: list[dict], cfg: JudgeConfig, progress, log) -> None:
    from evals.judge.prompts import contestant_messages
    from pipeline.models import GenParams, engine_of, generate

    if any(i.get("turn") for i in items):  # multi-turn: answered turn by turn
        from evals.judge.multiturn import answer_turns

        return answer_turns(store, run, items, cfg, progress, log)
    have = store.judge_answers(run["id"])
    todo = [(m, i) for m in cfg.contestants for i in items if (m, i["id"]) not in have]
    total, done = len(todo), 0
    log(f"answers: {total} to generate ({len(have)} stored)")
    params = GenParams(max_new_tokens=cfg.answer_max_new_tokens, temperature=0.0, batch_size=cfg.answer_batch_size)
    from pipeline.models.export_gguf import ensure_gguf

    for model in cfg.contestants:
        mine = [i for m, i in todo if m == model]
        if mine:
            ensure_gguf(store, model, params.engine, log=log)
        spec = store.get_model(model)  # the row itself: generate() alone would look in the default store
        used = engine_of(spec, params.engine) if mine else {}
        for start in range(0, len(mine), cfg.answer_batch_size):
            chunk = mine[start:start + cfg.answer_batch_size]
            replies = generate(spec, [contestant_messages(i) for i in chunk], params)
            store.add_judge_answers(run["id"], model, {i["id"]: r for i, r in zip(chunk, replies)}, **used)
            done += len(chunk)
            progress(done, total, f"answers {done}/{total} ({model})")


def check_syntax(store, run_id: int, items: list[dict], answers_rows: dict) -> None:
    """The rubric's syntax column, from the validity checker, for answers that are code."""
    from evals.validity import check

    lang = {i["id"]: i.get("language") for i in items}
    explain = {i["id"] for i in items if i["category"].startswith("explain")}
    for (model, item_id), row in answers_rows.items():
        language = lang.get(item_id)
        if row["valid"] is not None or item_id in explain or not language:
            continue
        try:
            result = check(extract_code(row["answer"]), language)
        except Exception as exc:  # no grammar for this language here: no syntax column, said why
            store.set_answer_validity(run_id, model, item_id, False, [f"not checked: {exc}"])
            continue
        store.set_answer_validity(run_id, model, item_id, result.valid,
                                  [f"{f.rule_id}: {f.message}" for f in result.findings][:10])


def extract_code(answer: str) -> str:
    """The first fenced block of an answer (to the end when an answer cut at its token limit never
    closes it), else the whole answer."""
    import re

    m = re.search(r"```[\w+#.-]*[ \t]*\n(.*?)(?:```|\Z)", answer or "", re.S)
    return m.group(1) if m else (answer or "")


def judge_all(store, run, items, answers, answers_rows, cfg, api_key, progress, log):
    from pipeline.label.cost import price_for

    judged = store.judged_keys(run["id"])
    requests = [r for r in plan_requests(cfg.mode, items, cfg.contestants, answers, cfg.seed)
                if r["key"] not in judged]
    judge = store.get_model(cfg.judge)
    price = price_for(store, judge)
    tally = JudgeTally(len(requests), store.judge_spend(run["id"])["cost"])
    log(f"judging: {len(requests)} requests to {cfg.judge} ({len(judged)} stored)")
    progress(0, tally.total, tally.message(), force=True)

    def judgment(req, fields: dict, raw, attempts, t_in, t_out, cost, latency) -> tuple[str, dict, JudgeOutcome]:
        """The row `record_judgment` stores for one request's reply (or failure), and its outcome."""
        extra = dict(fields)
        if cfg.mode == "rubric" and extra.get("scores") is not None:
            row = answers_rows.get((req["systems"][0], req["item"]["id"])) or {}
            if row.get("valid") is not None:
                extra["scores"] = {**extra["scores"], "syntax": 10.0 if row["valid"] else 0.0}
        status = extra.get("status")
        return req["key"], {
            "item_id": req["item"]["id"], "category": req["item"]["category"], "judge": cfg.judge, "mode": cfg.mode,
            "systems": req["systems"], "swapped": req.get("swapped"), "prompt": req["messages"], "raw": raw,
            "attempts": attempts, "tokens_in": t_in, "tokens_out": t_out, "cost": cost, "latency_ms": latency,
            **extra}, JudgeOutcome(None if status == "unparseable" else status == "ok", t_in, t_out, cost)

    def record(*args) -> JudgeOutcome:
        key, fields, outcome = judgment(*args)
        store.record_judgment(run["id"], key, fields)
        return outcome

    if cfg.batch:
        from evals.judge.batch import run_batch_judging

        stopped = run_batch_judging(store, run, requests, cfg, judge, price, tally, judgment, api_key, progress, log)
    elif judge["kind"] == "openai":
        stopped = _judge_endpoint(store, requests, judge, price, cfg, tally, record, api_key, progress, log)
    else:
        stopped = _judge_local(requests, judge, price, cfg, tally, record, progress)
    return stopped, tally


def _verdict(mode, req, text) -> dict:
    try:
        return {"status": "ok", "error": None, **read_verdict(mode, req, text)}
    except VerdictError as exc:
        return {"status": "unparseable", "error": str(exc)}


def _judge_endpoint(store, requests, judge, price, cfg, tally, record, api_key, progress, log):
    from pipeline.label.cost import cost_of, count_message_tokens, count_tokens
    from pipeline.label.endpoint import RequestFailed, RunStopped, scrub
    from pipeline.label.engine import run_in_flight
    from pipeline.models import ModelError
    from pipeline.models.backends.openai_compat import client_for

    if not (judge.get("endpoint") and judge.get("path")):
        raise ConfigError(f"model {judge['name']!r} needs an endpoint URL and a model id to judge with")
    client = client_for(judge, api_key, max_retries=0, timeout=cfg.request_timeout_s)

    def judge_one(req, messages, ask) -> JudgeOutcome:
        t_in = t_out = 0
        cost, latency, attempts, reply, fields = 0.0, 0.0, 0, None, {}
        for _ in range(cfg.parse_retries + 1):
            try:
                got = ask(messages)
            except (RequestFailed, RunStopped) as exc:
                if reply is not None:  # an earlier reply was paid for and is stored: it stands, unparseable
                    break
                if isinstance(exc, RunStopped):
                    raise
                return record(req, {"status": "failed", "error": scrub(str(exc), client.api_key)}, None, attempts,
                              t_in, t_out, cost, None)
            attempts += 1
            reply = got.text
            a = got.tokens_in if got.tokens_in is not None else count_message_tokens(messages)
            b = got.tokens_out if got.tokens_out is not None else count_tokens(got.text)
            t_in, t_out, cost, latency = t_in + a, t_out + b, cost + cost_of(price, a, b), latency + got.latency_ms
            fields = _verdict(cfg.mode, req, reply)
            if fields["status"] == "ok":
                break
            # Paid for and not usable: stored before the re-ask, so a cancel, a crash or a kill
            # between the two loses nothing and a resume skips it (it never pays for it again).
            record(req, fields, reply, attempts, t_in, t_out, cost, latency)
        return record(req, fields, reply, attempts, t_in, t_out, cost, latency)

    try:
        return run_in_flight(requests, lambda r: r["messages"], judge_one, client=client, model_id=judge["path"],
                             settings=cfg, price=price, budget_usd=cfg.budget_usd, tally=tally, progress=progress,
                             log=log, name="judge")
    except ModelError as exc:
        raise ModelError(scrub(str(exc), client.api_key)) from None


def _judge_local(requests, judge, price, cfg, tally, record, progress):
    """Batched generation; unparseable replies are asked again in a later pass with sampling on.
    A reply waiting for its retry is stored as unparseable if the run stops first (budget, cancel)."""
    from dataclasses import replace

    from evals.judge.constrained import complete_verdict
    from pipeline.label.engine import run_local_batches

    carried: dict[str, list] = {}     # key -> [attempts, t_in, t_out, cost, latency, last reply, its fields]
    retry: list[dict] = []
    by_key = {r["key"]: r for r in requests}
    recorded: set[str] = set()

    def handle(req, messages, reply, t_in, t_out, cost, latency):
        acc = carried.setdefault(req["key"], [0, 0, 0, 0.0, 0.0, None, None])
        fields = _verdict(cfg.mode, req, reply)
        if fields["status"] != "ok" and cfg.constrain_verdicts:
            reply = complete_verdict(judge, messages, reply, cfg.mode, len(req["systems"]))
            fields = {**_verdict(cfg.mode, req, reply), "constrained": True}
        acc[:] = [acc[0] + 1, acc[1] + t_in, acc[2] + t_out, acc[3] + cost, acc[4] + latency, reply, fields]
        if fields["status"] != "ok" and acc[0] <= cfg.parse_retries:
            record(req, fields, reply, *acc[:5])   # stored before the retry pass: a kill loses nothing
            retry.append(req)
            progress(tally.done, tally.total, f"{tally.message()} · {len(retry)} to ask again")
            return JudgeOutcome(True, t_in, t_out, cost)
        return final(req)

    def final(req, report: bool = True):
        attempts, t_in, t_out, cost, latency, reply, fields = carried[req["key"]]
        outcome = record(req, fields, reply, attempts, t_in, t_out, cost, latency)
        recorded.add(req["key"])
        tally.add(outcome)
        if report:
            progress(tally.done, tally.total, tally.message())
        return outcome

    todo, settings = requests, cfg
    try:
        while todo:
            inner = JudgeTally(len(todo), tally.spent)  # engine calls; `tally` counts final judgments
            stopped = run_local_batches(todo, lambda r: r["messages"], handle, model=judge, settings=settings,
                                        price=price, budget_usd=cfg.budget_usd, tally=inner, progress=_no_progress)
            if stopped:
                return stopped
            todo, retry[:] = list(retry), []
            settings = replace(cfg, temperature=max(cfg.temperature, cfg.retry_temperature))
    finally:
        for key in [k for k in carried if k not in recorded]:  # stopped before their retry: keep the
            final(by_key[key], report=False)                   # reply we have, marked unparseable
    return None
