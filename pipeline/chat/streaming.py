"""Stream several columns at once: one thread per column, one merged sequence of snapshots.

Each column goes loading → waiting (only when another chat is using the same local model, whose
lock queues us) → streaming → done | stopped | error. A column that fails (a model that does not
fit, an endpoint that drops mid-stream) keeps its partial text and its error, and the other columns
go on. Each column's `on_finish` runs in its own thread as soon as it ends, so what was said is
saved even if the reader (a browser tab) went away. `stop_run(key)` stops every column of a run
within a token.
"""
from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pipeline.chat.settings import ChatSettings
from pipeline.errors import StudioError

SNAPSHOT_EVERY_S = 0.05   # at most ~20 UI updates a second, however fast tokens come
POLL_S = 0.25

_runs: dict[str, threading.Event] = {}
_runs_lock = threading.Lock()


@dataclass
class Column:
    model: str | dict                     # a registered name or a spec dict
    settings: ChatSettings = field(default_factory=ChatSettings)
    label: str | None = None              # what the person sees ("Model A" in a battle)


@dataclass
class ColumnState:
    label: str
    status: str = "starting"              # starting | loading | waiting | streaming | done | stopped | error
    text: str = ""
    error: str | None = None
    notice: str | None = None
    dropped_turns: int = 0
    template: str | None = None           # the prompt layout applied (from the checkpoint's JSON)
    first_token_s: float | None = None
    seconds: float = 0.0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "stopped", "error")


def stop_run(key: str) -> bool:
    """Stop the run registered under `key` (the Stop button); False if nothing is running."""
    with _runs_lock:
        event = _runs.get(key)
    if event is None:
        return False
    event.set()
    return True


def run_columns(columns: list[Column], histories: list[list[dict]], *, run_key: str | None = None,
                api_key: str | None = None,
                on_finish: Callable[[int, ColumnState], None] | None = None) -> Iterator[list[ColumnState]]:
    """Yield the list of column states whenever something changed, until every column ended."""
    from pipeline import models

    stop = threading.Event()
    if run_key:
        with _runs_lock:
            _runs[run_key] = stop
    states = [ColumnState(label=c.label or _name(c.model)) for c in columns]
    changed: queue.Queue[int] = queue.Queue()
    specs: list[dict | None] = [None] * len(columns)

    def work(i: int) -> None:
        state, start = states[i], time.monotonic()
        try:
            from pipeline.chat.prompting import prepare

            spec = specs[i] = models.resolve(columns[i].model)
            if spec["kind"] != "openai" and not models.is_loaded(spec):
                state.status = "loading"
                changed.put(i)
            prepared = prepare(spec, histories[i], columns[i].settings)
            state.notice, state.dropped_turns, state.template = prepared.notice, prepared.dropped_turns, prepared.template
            state.status = "waiting" if spec["kind"] != "openai" and models.busy(spec) else "starting"
            changed.put(i)
            gen = models.stream_chat(spec, prepared.prompt, prepared.settings.gen_params(prepared.stop),
                                     api_key=api_key)
            try:
                for text in gen:
                    if not text:     # the model answers another session first: say so, then wait
                        state.status = "waiting"
                        changed.put(i)
                        continue
                    if state.first_token_s is None:
                        state.first_token_s = time.monotonic() - start
                    state.text, state.status = text, "streaming"
                    changed.put(i)
                    if stop.is_set():
                        break
            finally:
                gen.close()  # frees the model at once when stopped
            state.status = "stopped" if stop.is_set() else "done"
        except StudioError as exc:
            state.status, state.error = "error", str(exc)
        except Exception as exc:  # e.g. out of memory while loading: this column fails, the others go on
            state.status, state.error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            state.seconds = time.monotonic() - start
            if on_finish is not None:
                try:
                    on_finish(i, state)
                except StudioError as exc:
                    state.error = (state.error + "; " if state.error else "") + f"not saved: {exc}"
            changed.put(i)

    # Each column runs in the caller's context: it loads its model as the caller (pipeline.access).
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, i), daemon=True,
                                name=f"chat-col-{i}") for i in range(len(columns))]
    for t in threads:
        t.start()
    try:
        yield [_copy(s) for s in states]
        last = time.monotonic()
        while not all(s.finished for s in states):
            try:
                changed.get(timeout=POLL_S)
            except queue.Empty:
                pass
            # A queued column shows "waiting" while another session's answer holds its model.
            for i, s in enumerate(states):
                queued = specs[i]
                if s.status == "starting" and queued and queued["kind"] != "openai" and models.busy(queued):
                    s.status = "waiting"
            if time.monotonic() - last >= SNAPSHOT_EVERY_S or all(s.finished for s in states):
                last = time.monotonic()
                yield [_copy(s) for s in states]
        for t in threads:
            t.join()
        yield [_copy(s) for s in states]
    finally:
        stop.set()  # the reader left early (tab closed, Stop): end the columns too
        if run_key:
            with _runs_lock:
                if _runs.get(run_key) is stop:
                    del _runs[run_key]


def _copy(state: ColumnState) -> ColumnState:
    return ColumnState(**vars(state))


def _name(model: str | dict) -> str:
    return model if isinstance(model, str) else str(model.get("name") or model.get("path"))
