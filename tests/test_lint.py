"""The type-checking policy in pyproject.toml: `make lint` runs ruff and mypy, this keeps their
settings honest (the strict modules stay strict and never slip into the type-debt list)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRICT_AREAS = ("pipeline.store", "pipeline.config", "pipeline.jobs", "evals.sandbox")
STRICT_FLAGS = ("disallow_untyped_defs", "disallow_incomplete_defs", "warn_return_any")


def _mypy() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _modules(override: dict) -> list[str]:
    module = override["module"]
    return [module] if isinstance(module, str) else list(module)


def _covers(pattern: str, module: str) -> bool:
    return pattern == module or (pattern.endswith(".*") and (module + ".").startswith(pattern[:-1]))


def test_the_store_config_jobs_and_sandbox_are_checked_strictly() -> None:
    strict = [o for o in _mypy()["overrides"] if all(o.get(flag) for flag in STRICT_FLAGS)]
    for area in STRICT_AREAS:
        for module in (area, area + ".anything"):
            if area == "pipeline.config" and module != area:
                continue  # a module, not a package
            assert any(_covers(p, module) for o in strict for p in _modules(o)), f"{module} is not strict"


def test_no_strict_module_is_excused_as_type_debt() -> None:
    debt = [o for o in _mypy()["overrides"] if "disable_error_code" in o]
    excused = [p for o in debt for p in _modules(o)
               if any(p == a or p.startswith(a + ".") for a in STRICT_AREAS)]
    assert excused == []


def test_type_debt_names_error_codes_and_never_silences_a_module() -> None:
    overrides = _mypy()["overrides"]
    assert not [o for o in overrides if o.get("ignore_errors")]
    for override in overrides:
        if "disable_error_code" in override:
            assert override["disable_error_code"], override


def test_mypy_checks_the_three_packages_and_keeps_its_cache_ignored() -> None:
    mypy = _mypy()
    assert set(mypy["files"]) == {"pipeline", "evals", "studio"}
    assert mypy["cache_dir"] == ".mypy_cache"
    assert ".mypy_cache/" in (ROOT / ".gitignore").read_text().splitlines()
