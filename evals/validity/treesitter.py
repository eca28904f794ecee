"""Generic tree-sitter parse check for any installed grammar: ERROR and MISSING nodes.

Adding a language is a grammar wheel plus one row in pipeline/languages.py (module, the
function in it that returns the language pointer, file suffixes). Grammars are imported on first use.
tree-sitter recovers from errors instead of stopping, so one answer can yield several
findings; ``max_findings`` caps them because later ones are usually echoes of the first.
"""
from __future__ import annotations

import importlib
import threading
from functools import cache

from pipeline import languages as registry
from pipeline.errors import StudioError

from .findings import Finding

# name: (python module, function returning the language, file suffix), from the studio's one
# language registry (pipeline/languages.py): every row that has a tree-sitter wheel.
LANGUAGES: dict[str, tuple[str, str, str]] = {
    row.name: (row.grammar, row.grammar_function, row.extensions[0])
    for row in registry.ROWS if row.grammar
}


class UnknownLanguageError(StudioError, ValueError):
    """The language has no row in LANGUAGES (or its grammar wheel is not installed)."""


def canonical_language(name: str) -> str:
    return registry.canonical(name)


def installed_languages() -> list[str]:
    return [name for name in LANGUAGES if _grammar_available(name)]


@cache
def _grammar_available(name: str) -> bool:
    try:
        importlib.import_module(LANGUAGES[name][0])
    except ImportError:
        return False
    return True


@cache
def get_language(name: str):
    name = canonical_language(name)
    if name not in LANGUAGES:
        raise UnknownLanguageError(f"no tree-sitter grammar registered for {name!r}")
    module_name, func_name, _ = LANGUAGES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownLanguageError(f"grammar package {module_name} is not installed") from exc
    from tree_sitter import Language

    return Language(getattr(module, func_name)())


_THREAD = threading.local()


def get_parser(name: str):
    """A parser per thread: a tree-sitter Parser must not be used by two threads at once."""
    parsers = getattr(_THREAD, "parsers", None)
    if parsers is None:
        parsers = _THREAD.parsers = {}
    if name not in parsers:
        from tree_sitter import Parser

        parsers[name] = Parser(get_language(name))
    return parsers[name]


def parse(code: str, language: str):
    return get_parser(canonical_language(language)).parse(code.encode("utf-8"))


def parse_errors(code: str, language: str, max_findings: int = 5, tree=None) -> list[Finding]:
    """ERROR / MISSING nodes of the tree as findings (1-based lines)."""
    root = (tree or parse(code, language)).root_node
    if not root.has_error:
        return []
    findings: list[Finding] = []
    stack = [root]
    while stack and len(findings) < max_findings:
        node = stack.pop()
        if node.is_missing:
            findings.append(Finding(
                "ts-missing", node.start_point[0] + 1,
                f"tree-sitter: missing {node.type!r}", fix=f"insert {node.type!r}", level="parse"))
        elif node.is_error:
            snippet = node.text.decode("utf-8", "replace").strip().splitlines()
            near = (snippet[0][:40] if snippet else "")
            findings.append(Finding(
                "ts-error", node.start_point[0] + 1,
                f"tree-sitter: syntax error near {near!r}", level="parse"))
        else:
            # Children pushed in reverse so errors come out in source order.
            stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    if not findings:  # has_error set but no node isolated it; still a parse failure
        findings.append(Finding("ts-error", 1, "tree-sitter: syntax error", level="parse"))
    return findings
