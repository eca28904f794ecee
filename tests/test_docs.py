"""Docs that cannot drift: every CLI command and flag has help, every config field has help,
every tab and every top-level command is in the README."""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Run as scripts inside the sandbox (they import each other by bare name), never imported as modules.
SANDBOX_SCRIPTS = {"evals.sandbox.worker", "evals.sandbox.child", "evals.sandbox.mounts", "evals.sandbox.outputs"}


def walk(parser: argparse.ArgumentParser, path: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", "(command)", helps.get(name)
                yield from walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, "/".join(action.option_strings) or action.dest, action.help


def parsers():
    import evals.__main__ as evals_main
    import pipeline.__main__ as pipeline_main

    return {"python -m pipeline": pipeline_main.make_parser(), "python -m evals": evals_main.make_parser()}


@pytest.mark.parametrize("prog", ["python -m pipeline", "python -m evals"])
def test_every_command_and_flag_has_help(prog):
    missing = [f"{path} {arg}" for path, arg, text in walk(parsers()[prog], prog) if not text]
    assert not missing, "no help text: " + ", ".join(missing)


@pytest.mark.parametrize("prog", ["python -m pipeline", "python -m evals"])
def test_every_top_level_command_is_in_the_readme(prog):
    sub = next(a for a in parsers()[prog]._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"{prog} {name}" not in README]
    assert not missing, f"README does not mention: {missing}"


def test_every_tab_is_in_the_readme():
    import app

    for entry in app.TABS:
        title = importlib.import_module(entry).TITLE
        assert f"| {title} |" in README, f"tab {title} is not in the README's tab table"


def config_dataclasses():
    for package in ("pipeline", "evals"):
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            if info.name.endswith("__main__") or info.name in SANDBOX_SCRIPTS:
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if (isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
                        and (obj.__name__.endswith("Config") or obj.__name__ == "GenParams")):
                    yield obj


def test_every_config_field_has_help():
    found = list(config_dataclasses())
    assert found, "no config dataclasses found"
    missing = [f"{c.__name__}.{f.name}" for c in found for f in dataclasses.fields(c)
               if not f.metadata.get("help")]
    assert not missing, "fields without metadata help: " + ", ".join(missing)


def test_docs_stay_inside_the_repository():
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = doc.read_text()
        assert "../shared" not in text and "DESIGN.md" not in text, f"{doc.name} points outside the repository"


def test_architecture_page_names_every_stage_package():
    page = (ROOT / "docs" / "architecture.md").read_text()
    for root in ("pipeline", "evals"):
        for pkg in sorted((ROOT / root).iterdir()):
            if (pkg / "__init__.py").exists() and pkg.name != "__pycache__":
                assert f"{pkg.name}/" in page, f"docs/architecture.md does not map {root}/{pkg.name}"


def test_every_picture_the_readme_shows_is_in_the_repository():
    import re

    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / target).is_file(), f"README shows {target}, which is not in the repository"


def test_every_setting_the_code_reads_is_in_the_readme():
    import re

    read = set()
    for path in [ROOT / "app.py", *(ROOT / "pipeline").rglob("*.py"), *(ROOT / "evals").rglob("*.py"),
                 *(ROOT / "studio").rglob("*.py")]:
        text = path.read_text()
        read |= set(re.findall(r"(?:environ(?:\.get)?\(|env(?:iron)?\.get\(|getenv\(|\[)[\"'](STUDIO_[A-Z0-9_]+)[\"']", text))
    assert read, "no STUDIO_* setting found: the pattern is wrong"
    missing = sorted(name for name in read if name not in README)
    assert not missing, f"settings read by the code but not in the README's table: {missing}"


@pytest.mark.parametrize("prog", ["python -m pipeline", "python -m evals"])
def test_every_command_that_can_wait_can_also_detach(prog):
    """One helper (pipeline.cli.add_wait_flags) gives every job-starting command both flags."""
    flags: dict[str, set[str]] = {}
    for path, arg, _ in walk(parsers()[prog], prog):
        flags.setdefault(path, set()).update(arg.split("/"))
    waiting = {path: f for path, f in flags.items() if "--wait" in f}
    assert {"python -m pipeline train start", "python -m pipeline train resume"} <= set(waiting) or \
        prog == "python -m evals"
    assert prog != "python -m evals" or "python -m evals judge run" in waiting
    lacking = sorted(path for path, f in waiting.items() if "--detach" not in f)
    assert not lacking, f"--wait without --detach: {lacking}"
