"""What one tab offers the others, typed: the components and handlers a later tab may drive.

app.py builds one `Shared` per page (it lives on `StudioContext.shared`); a tab that offers
something fills its own field when it is built, a tab that uses it reads the field and wires its
jump only when the field is set, so every tab still builds (and runs alone, `python -m
studio.<tab>`) without the others. A misspelt field fails at build time (slots) and in mypy, not
when a person clicks.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gradio as gr


@dataclass(slots=True)
class JudgeLinks:
    """The judge panel's run picker, what shows a run, and where it shows (Evals tab)."""
    accordion: gr.Accordion
    pick: gr.Dropdown
    show: Callable
    outputs: list = field(default_factory=list)


@dataclass(slots=True)
class Shared:
    """Offered by the Evals tab: its eval drill-down picker and its judge panel, which the
    Compare page opens on the row a person clicks."""
    eval_pick: gr.Dropdown | None = None
    judge: JudgeLinks | None = None
