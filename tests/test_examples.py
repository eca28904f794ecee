"""Examples that run: every `python -m pipeline …` / `python -m evals …` line in the README, docs/ and
the module docstrings is parsed by the real CLI parser, so a renamed command or flag fails here.

The examples use a small grammar: `a|b|c` lists commands (each must exist), `[…]` marks optional
parts (checked as if given), and ALLCAPS words are placeholders (ID, FILE, MODEL…)."""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from tests.test_docs import parsers

ROOT = Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"python -m (pipeline|evals)(?=[ \t\n`]|$)([^`\n]*)")
# What a renamed command or flag makes argparse say; a shortened example (a bare `python -m
# pipeline`, a flag whose value the line leaves out) is a mention, not a wrong command.
WRONG = ("invalid choice", "unrecognized arguments")


def example_lines() -> list[tuple[str, str]]:
    """(where, command) for every example, from the docs and from module docstrings only (f-strings
    in code build commands from values and are not examples)."""
    found: list[tuple[str, str]] = []
    texts = [(p.relative_to(ROOT).as_posix(), p.read_text())
             for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    for package in ("pipeline", "evals", "studio"):
        for path in sorted((ROOT / package).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(path.read_text()))
            if doc:
                texts.append((path.relative_to(ROOT).as_posix(), doc))
    for where, text in texts:
        text = re.sub(r"\\\n\s*", " ", text)              # shell line continuations
        for match in COMMAND.finditer(text):
            rest = re.split(r" #| — |  |\. [A-Z]", match.group(2))[0].rstrip(" .,;:)'\"")
            found.append((where, f"python -m {match.group(1)}{rest}"))
    return sorted(set(found))


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _placeholder(word: str) -> bool:
    letters = re.match(r"[A-Za-z_]+", word.lstrip("<"))
    return bool(letters) and letters.group(0).isupper() and (len(letters.group(0)) > 1 or word in ("A", "B", "N"))


def check(command: str) -> str | None:
    """None when the example parses, else what is wrong with it."""
    prog = " ".join(command.split()[:3])
    group, path = parsers()[prog], prog
    words = re.sub(r"\s+\|\s+", "|", command).split()[3:]   # `list | show ID` is `list|show ID`
    while words:                     # the command path: each word must be a command of its group
        known = subcommands(group)
        word = words[0]
        if word in ("…", "...") or (known and _placeholder(word)):
            return None              # `python -m pipeline train …`: the group exists; that is all it says
        if not known or word.startswith(("-", "[")):
            break
        names = [n for n in word.split("|") if n]
        missing = [n for n in names if n not in known]
        if missing:
            return f"{path}: no command(s) {missing}"
        if len(names) > 1:           # `talk|list|show …`: each exists; their arguments differ
            return None
        group, path, words = known[word], f"{path} {word}", words[1:]
    # Its arguments: optional parts as if given, the first of alternatives, placeholders as values.
    text = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).split("|")[0], " ".join(words))
    for closing in ("", '"', "'"):  # a quoted value the line cut short
        try:
            argv = shlex.split(text + closing)
            break
        except ValueError:
            continue
    else:
        return f"cannot split {text!r}"
    argv = ["1" if _placeholder(w) or w in ("…", "...") else w.split("|")[0] for w in argv]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            group.parse_args(argv)
        except SystemExit as exc:
            said = (err.getvalue().strip().splitlines() or [""])[-1]
            if exc.code not in (0, None) and any(w in said for w in WRONG):
                return said
    return None


EXAMPLES = example_lines()


def test_there_are_examples_to_check():
    assert len(EXAMPLES) > 50


@pytest.mark.parametrize("where,command", EXAMPLES, ids=[f"{w}:{c[10:60]}" for w, c in EXAMPLES])
def test_every_documented_command_parses(where, command):
    problem = check(command)
    assert problem is None, f"{where}: `{command}` — {problem}"


def test_a_renamed_flag_or_command_is_caught():
    assert check("python -m pipeline train start --name x") is not None          # the flag is --run-name
    assert check("python -m pipeline train start --run-name x --wait") is None
    assert check("python -m pipeline curate search|add|commits") is not None      # the command is `mine`
    assert check("python -m pipeline quickstart plan") is None
