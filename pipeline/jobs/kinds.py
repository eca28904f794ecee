"""Job kinds are declared by their stage: every package under `pipeline/` and `evals/` may define
`JOB_KINDS = {"kind": "module:function"}` in its `__init__` (the function runs in a job's child
process). Nothing central lists them. JOB_KINDS must be a literal dict: it is read from the
source without importing the stage, so a stage that fails to import breaks only its own jobs.
"""
from __future__ import annotations

import ast
import importlib
from functools import lru_cache
from pathlib import Path

from pipeline.cli import stage_packages

ROOTS = ("pipeline", "evals")


def _declared_kinds(package_dir: Path) -> dict[str, str]:
    tree = ast.parse((package_dir / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "JOB_KINDS" for t in targets):
                if node.value is not None:
                    return dict(ast.literal_eval(node.value))
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
