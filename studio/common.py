"""What every tab shares: the settings of this server, the store, and error translation.

A tab module exposes TITLE and `build(ctx)`, which makes its components inside the `gr.Tab`
that app.py opens. Callbacks stay thin: they call pipeline/evals functions and let `ui_errors`
turn the project's named exceptions (StudioError) into a warning the person can read, and any
other exception (a bug) into its traceback in the studio's log plus a short message naming it.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from pipeline.errors import StudioError
from pipeline.store import Store, open_store
from studio.shared import Shared

log = logging.getLogger("studio")


@dataclass
class StudioContext:
    hosted: bool = False                   # running as a Hugging Face Space (SPACE_ID set)
    allow_code_execution: bool = True      # hosted mode turns it off unless explicitly enabled
    demo: gr.Blocks | None = None          # the app's Blocks, set by app.py before tabs are built
    store_error: str | None = None         # why the store could not be opened, shown as a banner
    tab: gr.Tab | None = None              # the tab being built (set by app.py around each build)
    tabs: gr.Tabs | None = None            # the container of every tab (set by app.py)
    tab_openers: list = field(default_factory=list)  # (tab, fn, inputs, outputs) run when a tab opens
    tab_links: list = field(default_factory=list)    # (button, tab id): buttons that open another tab
    shared: Shared = field(default_factory=Shared)  # what a tab offers later tabs (studio.shared)

    @classmethod
    def from_env(cls) -> StudioContext:
        from evals.sandbox import execution_allowed  # one rule for the UI and the executor
        from pipeline import hosted

        return cls(hosted=hosted.enabled(), allow_code_execution=execution_allowed()[0])

    def store(self) -> Store:
        return open_store()

    def on_load(self, fn, inputs=None, outputs=None, on_open: bool = True) -> None:
        """Run `fn` when a page opens (fills tables with what is in the store right now) and, with
        `on_open`, again each time its tab is opened, so a model registered or a dataset frozen in
        another tab shows up without a reload. Refreshers keep the user's current choice."""
        # Unqueued: these are quick reads, and a refresh that waited in the queue behind a slow
        # job could land after a later action's result and show the older state over it.
        if self.demo is not None:
            self.demo.load(fn, inputs, outputs, queue=False)
        if on_open and self.tab is not None:
            self.tab_openers.append((self.tab, fn, inputs, outputs))

    def go_to(self, button: gr.Button, title: str) -> None:
        """Clicking `button` opens the tab called `title` and runs its refreshers (wired once every
        tab is built, by `wire_tab_openers`)."""
        self.tab_links.append((button, title.lower()))

    def wire_tab_openers(self) -> None:
        for tab, fn, inputs, outputs in self.tab_openers:
            tab.select(fn, inputs, outputs, show_progress="hidden", queue=False)
        for button, tab_id in self.tab_links:
            event = button.click(lambda t=tab_id: gr.Tabs(selected=t), None, self.tabs, queue=False)
            for tab, fn, inputs, outputs in self.tab_openers:
                if tab.id == tab_id:
                    event.then(fn, inputs, outputs, show_progress="hidden", queue=False)


def session_principal():
    """The principal of the event being handled: its login (gr.Request.username) on a hosted
    studio, an anonymous visitor (with the session's id) without one; the owner on a local one."""
    from gradio.context import LocalContext

    from pipeline import access

    request = LocalContext.request.get(None)
    username = getattr(request, "username", None) if request is not None else None
    session = getattr(request, "session_hash", None) or "" if request is not None else ""
    return access.principal_for_login(username, session)


def with_principal(fn):
    """Run `fn` (an event handler) in the gate's scope of the session's principal, so every
    pipeline operation it reaches asks the gate as that principal. Streaming handlers re-enter
    the scope at each step (Gradio may resume a generator on another worker thread)."""
    from pipeline import access

    if getattr(fn, "studio_principal_bound", False):
        return fn
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            scope = access.Scope(session_principal())
            access.opened(scope)
            steps = fn(*args, **kwargs)
            while True:
                token = access.enter(scope)
                try:
                    item = next(steps)
                except StopIteration:
                    return
                finally:
                    access.leave(token)
                yield item
        bound = stream
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def coroutine(*args, **kwargs):
            with access.acting_as(session_principal()):
                return await fn(*args, **kwargs)
        bound = coroutine
    else:
        @functools.wraps(fn)
        def plain(*args, **kwargs):
            with access.acting_as(session_principal()):
                return fn(*args, **kwargs)
        bound = plain
    bound.studio_principal_bound = True
    return bound


# The queue lanes whose handlers generate text: on ZeroGPU they run under spaces.GPU.
GPU_LANES = ("generate", "chat", "arena-generate")


def bind_principals(demo: gr.Blocks) -> gr.Blocks:
    """Every event handler of `demo` runs as the session's principal (app.py calls this once the
    tabs are built, so a new tab cannot forget it; tests/access checks every handler). On a
    ZeroGPU Space (the `spaces` package installed) the generation handlers also run under
    `spaces.GPU`, which lends the GPU for the span of the call."""
    from pipeline import hosted

    gpu = None
    if hosted.zero_gpu():
        import spaces

        gpu = spaces.GPU
    for block_fn in demo.fns.values():
        if block_fn.fn is None or getattr(block_fn.fn, "studio_principal_bound", False):
            continue
        bound = with_principal(block_fn.fn)
        if gpu is not None and block_fn.concurrency_id in GPU_LANES:
            bound = gpu(bound)
            bound.studio_principal_bound = True
        block_fn.fn = bound
    return demo


def bound(fn: Callable, *args: Any, **kwargs: Any) -> Callable:
    """`fn` with some arguments fixed (the server's context, a vote's winner), under `fn`'s own
    name: Gradio names an event's API endpoint after its function (/start_run, /do_vote), where a
    bare functools.partial would be "partial", "partial_1", …"""
    fixed = functools.partial(fn, *args, **kwargs)
    fixed.__name__ = fn.__name__   # type: ignore[attr-defined]
    return fixed


def keep_choice(current, choices: list):
    """The user's current pick if it is still offered, else the first choice (or nothing)."""
    return current if current in choices else (choices[0] if choices else None)


# What a handler may raise for the person to read: the project's named errors, and gr.Error that
# a handler raises itself. Anything else is a bug (ui_errors keeps its traceback in the log).
EXPECTED = (StudioError, gr.Error)
# Set while a plain handler wrapped by ui_errors runs (streams are resumed in other contexts).
_HANDLING: contextvars.ContextVar[bool] = contextvars.ContextVar("studio_handling", default=False)


def name_form_fields(message: str, config: str | None = None) -> str:
    """A config message names CLI flags (`--train-steps must be at most 5000`); on a form the person
    sees boxes, so each flag of a field shown on a form becomes that box's label: the label of the
    config the message came from (ConfigError.config), else the field's only label on any form."""
    from studio.widgets import FIELD_LABELS

    def label(match: re.Match) -> str:
        name = match.group(1).replace("-", "_")
        if (config or "", name) in FIELD_LABELS:
            return f"“{FIELD_LABELS[(config or '', name)]}”"
        labels = {text for (_, field_name), text in FIELD_LABELS.items() if field_name == name}
        return f"“{labels.pop()}”" if len(labels) == 1 else match.group(0)

    return re.sub(r"(?<![\w-])--([a-z][a-z0-9-]*)", label, message)


def _refuse(exc: Exception) -> None:
    """One message for the person; the panel keeps what it showed (the caller returns gr.skip())
    and the server log gets a line, not a traceback: this is an expected failure, not a bug."""
    message = name_form_fields(exc.message if isinstance(exc, gr.Error) else str(exc), getattr(exc, "config", None))
    log.info("refused: %s", message)
    gr.Warning(message)


def internal_error(exc: Exception, where: str) -> gr.Error:
    """A bug in a handler: its traceback goes to the studio's log file (pipeline.errors.record_bug)
    and the person gets a short message that names that file, not the exception's text."""
    from pipeline import access
    from pipeline.errors import record_bug, where_logged

    path = record_bug(exc, where)
    if access.current().role is not access.Role.OWNER:   # a hosted visitor learns no server paths
        return gr.Error("internal error; the studio's owner can find it in the server's log", print_exception=False)
    return gr.Error(f"internal error, see the log ({where_logged(path)})", print_exception=False)


def ui_errors(fn):
    """A StudioError (or a gr.Error the handler raised) becomes one warning toast while every
    output keeps its value (gr.skip()); any other exception is a bug: its traceback is written to
    the studio's log and the person sees "internal error, see the log (PATH)". Works for plain
    handlers and for streaming (generator) handlers."""
    where = f"{fn.__module__}.{fn.__qualname__}"
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except EXPECTED as exc:
                _refuse(exc)
                yield gr.skip()
            except Exception as exc:
                raise internal_error(exc, where) from None
        return stream

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _HANDLING.get():
            # Called by another handler (a page's load runs the tab's refresh): the outermost one
            # answers the person, so no caller ever unpacks one gr.skip() as its outputs.
            return fn(*args, **kwargs)
        token = _HANDLING.set(True)
        try:
            return fn(*args, **kwargs)
        except EXPECTED as exc:
            _refuse(exc)
            return gr.skip()
        except Exception as exc:
            raise internal_error(exc, where) from None
        finally:
            _HANDLING.reset(token)

    return wrapper
