"""The request engine shared by the labeller and the LLM judge: many chat requests against an
OpenAI-compatible endpoint with N in flight, or batched through a local model.

    stopped = run_in_flight(items, messages_of, work, client=c, model_id="gpt-4o-mini",
                            settings=cfg, price=price, budget_usd=2.0, tally=tally, ...)

`work(item, messages, ask)` is the caller's: it calls `ask(messages)` (our retries with backoff,
see `endpoint.request_label`) as often as it needs — the judge asks again after an unparseable
verdict — writes its own result the moment it has one, and returns an outcome with `ok`,
`tokens_in`, `tokens_out` and `cost`. The engine keeps `concurrency` items in flight, reserves each
one's estimated cost against the budget until its real cost is known, stops starting new items
when the budget would be passed, and on a fatal error (bad key, lost database) or a cancel stops
the retries at once while requests already on the wire finish and are stored.

`settings` is any object with concurrency, max_new_tokens, temperature, max_retries,
backoff_base_s, backoff_max_s and expected_output_tokens (LabelConfig and JudgeConfig both are).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from pipeline.label.cost import cost_of, count_message_tokens, count_tokens


@dataclass
class RequestTally:
    """What a run of paid requests has done so far, for its progress line and its result. `ok` is
    True (a usable reply), False (failed) or None (answered, but not in a usable shape)."""
    total: int
    spent_before: float = 0.0           # earlier attempts of the same job (from the ledger)
    done: int = 0
    ok: int = 0
    unusable: int = 0
    failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def add(self, o) -> None:
        self.done += 1
        self.ok += o.ok is True
        self.unusable += o.ok is None
        self.failed += o.ok is False
        self.tokens_in += o.tokens_in
        self.tokens_out += o.tokens_out
        self.cost += o.cost

    @property
    def spent(self) -> float:
        return self.spent_before + self.cost

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    def usage(self) -> str:
        return f"{self.rate():.2f}/s · {self.tokens_in + self.tokens_out:,} tokens · ${self.spent:.4f}"


def over_budget(budget_usd: float | None, spent: float, reserved: float, next_cost: float) -> bool:
    return budget_usd is not None and spent + reserved + next_cost > budget_usd + 1e-12


def run_in_flight(items, messages_of: Callable[[Any], list[dict]], work: Callable, *, client, model_id: str,
                  settings, price: dict | None, budget_usd: float | None, tally, progress, log,
                  name: str = "request") -> str | None:
    """Run `work` over `items` with up to settings.concurrency in flight. Returns "budget" when
    the budget stopped it, else None; re-raises the first fatal error after in-flight work ends."""
    from pipeline.label.endpoint import RunStopped, request_label

    stop = threading.Event()

    def ask(messages: list[dict]):
        return request_label(client, model_id, messages, max_tokens=settings.max_new_tokens,
                             temperature=settings.temperature, max_retries=settings.max_retries,
                             backoff_base_s=settings.backoff_base_s, backoff_max_s=settings.backoff_max_s,
                             stop=stop, log=log)

    pending = deque(items)
    in_flight: dict = {}            # future -> dollars reserved for it until its reply is priced
    stopped, fatal = None, None
    with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix=name) as pool:
        try:
            while in_flight or (pending and not stopped and not fatal):
                while pending and len(in_flight) < settings.concurrency and not stopped and not fatal:
                    messages = messages_of(pending[0])
                    out_guess = tally.tokens_out / tally.ok if tally.ok else settings.expected_output_tokens
                    guess = cost_of(price, count_message_tokens(messages), int(out_guess))
                    if over_budget(budget_usd, tally.spent, sum(in_flight.values()), guess):
                        stopped = "budget"
                        break
                    in_flight[pool.submit(work, pending.popleft(), messages, ask)] = guess
                if not in_flight:
                    break
                finished, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
                for future in finished:
                    in_flight.pop(future)
                    try:
                        tally.add(future.result())
                    except RunStopped:
                        pass
                    except Exception as exc:  # a bad key, a lost database…: stop everything, say why
                        fatal = fatal or exc
                        stop.set()
                progress(tally.done, tally.total, tally.message())
        except BaseException:
            stop.set()  # cancelled: requests on the wire finish and are stored; retries stop waiting
            raise
    if fatal:
        raise fatal
    return stopped


def run_local_batches(items, messages_of: Callable[[Any], list[dict]], handle: Callable, *, model: dict,
                      settings, price: dict | None, budget_usd: float | None, tally, progress) -> str | None:
    """The same contract through `pipeline.models.generate` with settings.concurrency prompts per
    batch: `handle(item, messages, reply_text, tokens_in, tokens_out, cost, latency_ms)` stores the
    result and returns the outcome. Returns "budget" when the budget stopped it."""
    from pipeline.models import GenParams, ModelError, generate

    params = GenParams(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                       batch_size=settings.concurrency)
    items = list(items)
    for start in range(0, len(items), settings.concurrency):
        chunk = items[start:start + settings.concurrency]
        prompts = [messages_of(i) for i in chunk]
        guess = sum(cost_of(price, count_message_tokens(m), settings.expected_output_tokens) for m in prompts)
        if over_budget(budget_usd, tally.spent, 0.0, guess):
            return "budget"
        began = time.monotonic()
        replies = generate(model, prompts, params)
        if len(replies) != len(chunk):  # never guess which reply belongs to which item
            raise ModelError(f"{model.get('name')} returned {len(replies)} replies for {len(chunk)} prompts")
        latency = (time.monotonic() - began) * 1000 / len(chunk)
        for item, messages, reply in zip(chunk, prompts, replies):
            t_in, t_out = count_message_tokens(messages), count_tokens(reply)
            tally.add(handle(item, messages, reply, t_in, t_out, cost_of(price, t_in, t_out), latency))
        progress(tally.done, tally.total, tally.message())
    return None
