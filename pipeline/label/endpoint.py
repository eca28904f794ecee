"""Labelling through an OpenAI-compatible endpoint: N requests in flight, each with our own retries.

The openai client's built-in retries are off (`max_retries=0`) so that every attempt is ours to
count, to back off (exponential with full jitter, at least what Retry-After asks for) and to
abandon at once when the run is stopped. Transient failures (429, 5xx, timeouts, dropped
connections, a malformed body) are retried; a 400 fails only its own snippet; a bad key, a
missing model or a forbidden endpoint fails the whole run, since every request would fail alike.
"""
from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass

from pipeline.errors import ControlFlow
from pipeline.label.cost import cost_of, count_message_tokens, count_tokens, price_for
from pipeline.label.replies import clean_reply
from pipeline.models import ModelError
from pipeline.store import StoreError

RETRYABLE_STATUS = {408, 409, 429}


@dataclass
class Reply:
    text: str
    tokens_in: int | None        # None when the server sent no usage
    tokens_out: int | None
    latency_ms: float
    attempts: int


class RequestFailed(ControlFlow):
    """This snippet's request failed for good (after retries, or a 400); the row records why."""


class NoChoices(ControlFlow):
    """A 200 whose body has no choices: treated like a malformed body."""


class RunStopped(ControlFlow):
    """The run was stopped (cancel, budget, fatal error) while this request waited to retry."""


def backoff_delay(attempt: int, base_s: float, max_s: float, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff, never shorter than the server's Retry-After."""
    uniform = (rng or random).uniform
    delay = uniform(0, min(max_s, base_s * (2 ** attempt)))
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_s) + uniform(0, base_s / 4))
    return delay


def retry_after_seconds(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue  # an HTTP date: rare from APIs; the exponential delay covers it
    return None


def classify(exc: Exception) -> str:
    """'retry', 'fail' (this snippet) or 'fatal' (the whole run)."""
    import openai

    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)):
        return "fatal"
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        return "retry" if code in RETRYABLE_STATUS or code >= 500 else "fail"
    if isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError, json.JSONDecodeError,
                        NoChoices)):
        return "retry"  # includes timeouts; a malformed body is a server hiccup, worth another go
    return "fail"


def describe(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {str(exc)[:200]}"
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON from the server ({exc.msg})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def request_label(client, model_id: str, messages: list[dict], *, max_tokens: int, temperature: float,
                  max_retries: int, backoff_base_s: float, backoff_max_s: float,
                  stop: threading.Event | None = None, log=lambda msg: None) -> Reply:
    stop = stop or threading.Event()
    last: Exception | None = None
    for attempt in range(max_retries + 1):
        if stop.is_set():
            raise RunStopped()
        started = time.monotonic()
        try:
            resp = client.chat.completions.create(model=model_id, messages=messages,
                                                  max_tokens=max_tokens, temperature=temperature)
            if not resp.choices:
                raise NoChoices("the reply has no choices")
            usage = resp.usage
            return Reply(text=resp.choices[0].message.content or "",
                         tokens_in=usage.prompt_tokens if usage else None,
                         tokens_out=usage.completion_tokens if usage else None,
                         latency_ms=(time.monotonic() - started) * 1000, attempts=attempt + 1)
        except Exception as exc:  # sorted into retry / fail / fatal below
            verdict = classify(exc)
            if verdict == "fatal":
                raise ModelError(f"the endpoint refused the request ({describe(exc)}); fix the model's URL, "
                                 f"model id or API key and run again") from exc
            if verdict == "fail":
                raise RequestFailed(describe(exc)) from exc
            last = exc
            if attempt == max_retries:
                break
            delay = backoff_delay(attempt, backoff_base_s, backoff_max_s, retry_after_seconds(exc))
            log(f"retrying in {delay:.1f}s after {describe(exc)} (attempt {attempt + 1})")
            if stop.wait(delay):
                raise RunStopped() from None
    reason = describe(last) if last is not None else "no attempt was made"   # max_retries < 0
    raise RequestFailed(f"gave up after {max_retries + 1} attempts: {reason}")


def run_endpoint(store, plan, tally, *, api_key, job_id, progress, log) -> str | None:
    """Label plan.snippets with up to `concurrency` requests in flight (pipeline.label.engine); each
    worker writes its own result the moment it arrives. Returns "budget" when the budget stopped it."""
    from pipeline.label.engine import run_in_flight
    from pipeline.label.labeller import Outcome
    from pipeline.models.backends.openai_compat import client_for

    cfg = plan.config
    price = price_for(store, plan.model)
    if cfg.budget_usd is not None and price is None:
        raise StoreError(f"no price for {plan.model['path']!r}: add one to the prices table to use a budget")
    client = client_for(plan.model, api_key, max_retries=0, timeout=cfg.request_timeout_s)

    def label_one(snippet: dict, messages: list[dict], ask) -> Outcome:
        try:
            reply = ask(messages)
        except RequestFailed as exc:  # nothing was paid; the failed row says why
            error = scrub(str(exc), client.api_key)
            store.record_label(plan.pair(snippet, status="failed", error=error))
            return Outcome(snippet["id"], False, error=error)
        t_in = reply.tokens_in if reply.tokens_in is not None else count_message_tokens(messages)
        t_out = reply.tokens_out if reply.tokens_out is not None else count_tokens(reply.text)
        cost = cost_of(price, t_in, t_out)
        instruction, reason = clean_reply(reply.text, snippet["code"])
        store.record_label(
            plan.pair(snippet, instruction=instruction or "", status="draft" if instruction else "failed",
                      error=reason, raw_reply=reply.text, tokens_in=t_in, tokens_out=t_out, cost=cost,
                      latency_ms=reply.latency_ms),
            {"job_id": job_id, "outcome": "ok" if instruction else "rejected", "tokens_in": t_in,
             "tokens_out": t_out, "cost": cost})
        return Outcome(snippet["id"], bool(instruction), t_in, t_out, cost, reason)

    try:
        return run_in_flight(plan.snippets, plan.messages, label_one, client=client, model_id=plan.model["path"],
                             settings=cfg, price=price, budget_usd=cfg.budget_usd, tally=tally,
                             progress=progress, log=log, name="label")
    except ModelError as exc:
        raise ModelError(scrub(str(exc), client.api_key)) from None


def scrub(text: str, secret: str | None) -> str:
    """Error text as it may be stored: a server that echoes the key back must not put it in the db."""
    return text.replace(secret, "***") if secret and len(secret) >= 8 else text
