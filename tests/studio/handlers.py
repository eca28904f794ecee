"""What the handler tests share: calling a @ui_errors handler outside a page, where its warning
toast (gr.Warning) is a Python warning and a refusal returns gr.skip() for every output."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest

SKIP = gr.skip()   # what a refusing handler returns: every output keeps its value


def refused(fn: Callable, *args: Any, match: str | None = None) -> str:
    """Call a handler that must refuse: a warning toast (matching `match`), every output kept;
    the toast's text."""
    with pytest.warns(UserWarning, match=match) as caught:
        out = fn(*args)
    assert out == SKIP
    return " ".join(str(w.message) for w in caught)


def warned(fn: Callable, *args: Any) -> tuple[Any, list[str]]:
    """Call a handler; its result and the text of every warning toast it raised (maybe none)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    return result, [str(w.message) for w in caught]
