"""The dependency rules of the layout, checked by reading every module's imports (nothing runs).

studio → pipeline, evals;  evals → pipeline's infrastructure (store, jobs, models, errors, config,
paths, cli, languages, jsonl, hosted, access), the labeller's request engine (the judge reuses it) and the chat
arena (Compare shows Elo); pipeline never imports evals, studio or gradio; only pipeline/store
touches SQLite; studio never imports torch, transformers or SQLite.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVALS_MAY_USE = {"pipeline.store", "pipeline.jobs", "pipeline.models", "pipeline.errors", "pipeline.config",
                 "pipeline.paths", "pipeline.cli", "pipeline.languages", "pipeline.jsonl",
                 "pipeline.label", "pipeline.chat", "pipeline.hosted", "pipeline.access"}
SQL_MODULES = ("sqlite3", "sqlite_utils")
# Offline generators read third-party SQLite files as data sources; they never open the studio's.
SQL_DATA_SOURCES = {"evals/validity/api/generate.py"}
HEAVY = ("torch", "transformers", "peft", "trl", "accelerate", "deepspeed")


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Every module name an import statement in the file names (top level and inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def violations(package: str, rule) -> list[str]:
    return [f"{p.relative_to(ROOT)}: {name}" for p in modules(package) for name in sorted(imported(p))
            if rule(p, name)]


def starts(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("package", ["pipeline", "evals"])
def test_nothing_below_studio_imports_gradio_or_studio(package):
    assert violations(package, lambda p, n: starts(n, "gradio", "studio")) == []


def test_pipeline_never_imports_evals():
    assert violations("pipeline", lambda p, n: starts(n, "evals")) == []


def test_evals_use_only_pipelines_infrastructure():
    bad = violations("evals", lambda p, n: starts(n, "pipeline") and not starts(n, *EVALS_MAY_USE)
                     and n != "pipeline")
    assert bad == []


@pytest.mark.parametrize("package", ["pipeline", "evals", "studio"])
def test_only_the_store_touches_sqlite(package):
    bad = violations(package, lambda p, n: starts(n, *SQL_MODULES)
                     and "store" not in p.relative_to(ROOT).parts[:2]
                     and str(p.relative_to(ROOT)) not in SQL_DATA_SOURCES)
    assert bad == []


def test_studio_imports_no_torch_and_no_sql():
    assert violations("studio", lambda p, n: starts(n, *HEAVY, *SQL_MODULES)) == []


def test_app_imports_only_studio_and_light_modules_at_start():
    top = {n for n in imported(ROOT / "app.py")}
    assert not any(starts(n, *HEAVY) for n in top)


def test_each_stage_is_a_package_and_the_top_level_stays_small():
    flat = [p.name for p in (ROOT / "pipeline").glob("*.py")]
    assert len(flat) <= 8, flat
    for root in ("pipeline", "evals"):
        for pkg in (ROOT / root).iterdir():
            if pkg.is_dir() and pkg.name != "__pycache__":
                init = pkg / "__init__.py"
                assert init.exists(), f"{pkg} is not a package"
                doc = ast.get_docstring(ast.parse(init.read_text()))
                assert doc and len(doc.split()) >= 8, f"{init} needs a docstring saying what the stage does"


def test_tests_mirror_the_stage_packages():
    stages = {p.name for root in ("pipeline", "evals") for p in (ROOT / root).iterdir()
              if p.is_dir() and (p / "__init__.py").exists()}
    test_dirs = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    assert stages - test_dirs <= {"backends"}, sorted(stages - test_dirs)


def test_no_studio_function_is_longer_than_a_screen():
    """A tab reads in one sitting: its handlers are named top-level functions and build(ctx) only
    lays out and wires (docs/architecture.md), so no function in studio/ runs past ~80 lines."""
    long = [f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for p in modules("studio") for node in ast.walk(ast.parse(p.read_text(), str(p)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80]
    assert long == []

def store_internals(path: Path) -> list[str]:
    """Each `.tx` or `.db` attribute the file reads: a transaction or a raw connection."""
    return [f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}"
            for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Attribute) and node.attr in ("tx", "db")]


@pytest.mark.parametrize("package", ["pipeline", "evals", "studio"])
def test_only_the_store_opens_transactions(package):
    """A write that must be atomic is one named Store method; nothing outside pipeline/store opens
    `store.tx()` or reaches for `store.db`."""
    files = [p for p in modules(package) if "store" not in p.relative_to(ROOT).parts[:2]]
    if package == "studio":
        files.append(ROOT / "app.py")
    assert [hit for p in files for hit in store_internals(p)] == []
