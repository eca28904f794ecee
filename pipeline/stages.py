"""Stages declare themselves; nothing central lists them.

Every package under `pipeline/` and `evals/` is a stage. Its `__init__` may define
`JOB_KINDS = {"kind": "module:function"}` (the function runs in a job's child process), and a
`cli.py` beside it with `register(subparsers)` adds its commands to `python -m pipeline` or
`python -m evals`. A new stage therefore touches its own package (plus one studio tab), never a
shared table. Stage packages must stay cheap to import: heavy libraries load inside functions.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

ROOTS = ("pipeline", "evals")


def stage_packages(root: str) -> list[str]:
    """Dotted names of the stage packages directly under `root`, sorted."""
    package = importlib.import_module(root)
    return sorted(f"{root}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if m.ispkg)


def cli_modules(root: str) -> list[str]:
    """The `cli` module of every stage under `root` that has one (found without importing)."""
    found = []
    for name in stage_packages(root):
        folder = Path(importlib.import_module(root).__path__[0]) / name.split(".")[-1]
        if (folder / "cli.py").exists():
            found.append(f"{name}.cli")
    return found


@lru_cache(maxsize=1)
def job_kinds() -> dict[str, str]:
    """Every stage's JOB_KINDS merged; a kind declared twice is a programming error."""
    kinds: dict[str, str] = {}
    for root in ROOTS:
        for name in stage_packages(root):
            for kind, target in getattr(importlib.import_module(name), "JOB_KINDS", {}).items():
                if kind in kinds:
                    raise RuntimeError(f"job kind {kind!r} declared by {name} and by {kinds[kind]}")
                kinds[kind] = target
    return kinds
