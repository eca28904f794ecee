"""What every tab shares: the settings of this server, the store, and error translation.

A tab module exposes TITLE and `build(ctx)`, which makes its components inside the `gr.Tab`
that app.py opens. Callbacks stay thin: they call pipeline/evals functions and let `ui_errors`
turn the project's named exceptions into a `gr.Error` the person can read.
"""
from __future__ import annotations

from pipeline.errors import StudioError

import functools
import os
from dataclasses import dataclass

import gradio as gr

from pipeline.store import Store, open_store


@dataclass
class StudioContext:
    hosted: bool = False                   # running as a Hugging Face Space (SPACE_ID set)
    allow_code_execution: bool = True      # hosted mode turns it off unless explicitly enabled
    demo: gr.Blocks | None = None          # the app's Blocks, set by app.py before tabs are built
    store_error: str | None = None         # why the store could not be opened, shown as a banner

    @classmethod
    def from_env(cls) -> "StudioContext":
        from evals.sandbox import execution_allowed  # one rule for the UI and the executor

        return cls(hosted=bool(os.environ.get("SPACE_ID")), allow_code_execution=execution_allowed()[0])

    def store(self) -> Store:
        return open_store()

    def on_load(self, fn, inputs=None, outputs=None) -> None:
        """Run `fn` when a page opens (fills tables with what is in the store right now)."""
        if self.demo is not None:
            self.demo.load(fn, inputs, outputs)


def ui_errors(fn):
    """Turn named project errors (StudioError and subclasses, ValueError) into gr.Error."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (StudioError, ValueError, FileNotFoundError, PermissionError) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper
