"""Python validity: the parse level *is* py_compile, the refs level is pyflakes.

``py_compile`` compiles the file's bytes with ``compile(data, path, "exec",
dont_inherit=True)``; the parse level does exactly that in memory (same coding-cookie and
BOM handling, same SyntaxError/IndentationError/TabError, same compile-time errors such as
``return`` outside a function), so it agrees with py_compile without touching the disk.
The compile level additionally runs the real ``py_compile`` on a temporary file.
Refs are pyflakes' UndefinedName / UndefinedLocal / UndefinedExport; other pyflakes messages
(unused imports, redefinitions …) are info findings of the lint level.
"""
from __future__ import annotations

import ast
import warnings

from . import compilers
from .findings import DEFAULT_LEVELS, Finding

_UNDEFINED_MESSAGES = ("UndefinedName", "UndefinedLocal", "UndefinedExport")


def syntax_findings(code: str) -> list[Finding]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning (e.g. "is" with a literal) is not an error
        try:
            compile(code.encode("utf-8"), "<answer>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            fix = "check indentation" if isinstance(exc, IndentationError) else None
            return [Finding("py-syntax-error", exc.lineno or 0,
                            f"{type(exc).__name__}: {exc.msg}", fix=fix)]
        except ValueError as exc:  # e.g. null bytes; py_compile rejects those too
            return [Finding("py-syntax-error", 0, f"ValueError: {exc}")]
    return []


def pyflakes_findings(code: str, levels) -> list[Finding]:
    from pyflakes import checker

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    messages = checker.Checker(tree, filename="<answer>").messages
    findings = []
    for message in sorted(messages, key=lambda m: m.lineno):
        kind = type(message).__name__
        text = message.message % message.message_args
        if kind in _UNDEFINED_MESSAGES:
            if "refs" in levels:
                name = message.message_args[0] if message.message_args else ""
                findings.append(Finding("py-undefined-name", message.lineno, text,
                                        fix=f"define or import {name!r}", level="refs"))
        elif "lint" in levels:
            findings.append(Finding(f"pyflakes-{kind}", message.lineno, text,
                                    severity="info", level="lint"))
    return findings


def check_python(code: str, levels=DEFAULT_LEVELS) -> list[Finding]:
    levels = set(levels)
    syntax = syntax_findings(code) if levels & {"parse", "refs", "lint"} else []
    findings = list(syntax) if "parse" in levels else []
    if not syntax and levels & {"refs", "lint"}:  # pyflakes needs code that parses
        findings += pyflakes_findings(code, levels)
    if "compile" in levels:
        findings += compilers.compile_check(code, "python")
    return findings
