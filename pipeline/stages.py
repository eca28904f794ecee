"""Stages declare themselves; nothing central lists them.

Every package under `pipeline/` and `evals/` is a stage. Its `__init__` may define
`JOB_KINDS = {"kind": "module:function"}` (the function runs in a job's child process), and a
`cli.py` beside it with `register(subparsers)` adds its commands to `python -m pipeline` or
`python -m evals`. A new stage therefore touches its own package (plus one studio tab), never a
shared table. JOB_KINDS must be a literal dict: it is read from the source without importing the
stage, so a stage that fails to import breaks only its own jobs and commands.
"""
from __future__ import annotations

import ast
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


def _declared_kinds(package_dir: Path) -> dict[str, str]:
    tree = ast.parse((package_dir / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "JOB_KINDS" for t in targets):
                return ast.literal_eval(node.value)
    return {}


@lru_cache(maxsize=1)
def job_kinds() -> dict[str, str]:
    """Every stage's JOB_KINDS merged; a kind declared twice is a programming error."""
    kinds: dict[str, str] = {}
    for root in ROOTS:
        root_dir = Path(importlib.import_module(root).__path__[0])
        for name in stage_packages(root):
            for kind, target in _declared_kinds(root_dir / name.split(".")[-1]).items():
                if kind in kinds:
                    raise RuntimeError(f"job kind {kind!r} declared twice (again by {name})")
                kinds[kind] = target
    return kinds
