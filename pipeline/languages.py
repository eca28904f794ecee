"""The languages the studio knows, one row each: a new language is one row here (plus, for
extraction, its tree-sitter query in pipeline/curate/languages.py; for execution, its program
builder in evals/passk/languages.py).

    lookup("c++").name == "cpp";  display_name("gdscript") == "GDScript"
    highlight("rust") == "cpp"     # the nearest grammar gr.Code has
    passk_key("javascript") == "js"

Every table that used to name languages on its own (display names, fence tags, highlight
grammars, aliases, tree-sitter wheels, execution keys) reads these rows.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    name: str                        # the studio-wide id (stored on snippets, pairs, suites)
    display: str                     # what a person or a prompt calls it
    aliases: tuple[str, ...] = ()    # other spellings: suites, fences, GitHub, file suffixes
    extensions: tuple[str, ...] = () # source files extraction reads
    grammar: str | None = None       # importable tree-sitter wheel
    grammar_function: str = "language"
    fence: str | None = None         # the markdown fence tag models write (defaults to name)
    highlight: str | None = None     # gr.Code grammar closest to it (None: plain text)
    passk: str | None = None         # pass@k's execution key, where programs can run


ROWS = (
    Language("python", "Python", ("py", "python3"), (".py", ".pyw"), "tree_sitter_python",
             highlight="python", passk="python"),
    Language("gdscript", "GDScript", ("gd", "godot"), (".gd",), "tree_sitter_gdscript", highlight="python"),
    Language("javascript", "JavaScript", ("js", "node", "nodejs"), (".js", ".jsx", ".mjs", ".cjs"),
             "tree_sitter_javascript", highlight="javascript", passk="js"),
    Language("typescript", "TypeScript", ("ts",), (".ts", ".mts", ".cts"), "tree_sitter_typescript",
             "language_typescript", highlight="typescript"),
    Language("tsx", "TSX", (), (".tsx",), "tree_sitter_typescript", "language_tsx", fence="tsx",
             highlight="typescript"),
    Language("go", "Go", ("golang",), (".go",), "tree_sitter_go", highlight="cpp", passk="go"),
    Language("rust", "Rust", ("rs",), (".rs",), "tree_sitter_rust", highlight="cpp", passk="rust"),
    Language("java", "Java", (), (".java",), "tree_sitter_java", highlight="cpp", passk="java"),
    Language("c", "C", (), (".c", ".h"), "tree_sitter_c", highlight="c"),
    Language("cpp", "C++", ("c++", "cxx", "cc"), (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".h++"),
             "tree_sitter_cpp", highlight="cpp", passk="cpp"),
    Language("lua", "Lua", (), (".lua",), "tree_sitter_lua"),
    Language("csharp", "C#", ("c#", "cs"), (".cs",)),
    Language("shell", "Shell", ("bash", "sh"), (".sh",), highlight="shell"),
)
LANGUAGES: dict[str, Language] = {row.name: row for row in ROWS}
_BY_SPELLING: dict[str, Language] = {}
for row in ROWS:
    for spelling in (row.name, *row.aliases, row.passk or row.name):
        _BY_SPELLING.setdefault(spelling.lower(), row)
del row, spelling


def lookup(name: str | None) -> Language | None:
    """The row for a name, an alias or an execution key, any case; None when unknown."""
    return _BY_SPELLING.get((name or "").strip().lower())


def canonical(name: str | None) -> str:
    """The studio-wide id of a language (an unknown name comes back lowercased as it is)."""
    row = lookup(name)
    return row.name if row else (name or "").strip().lower()


def display_name(name: str | None) -> str:
    row = lookup(name)
    return row.display if row else (name or "code")


def fence_tag(name: str | None) -> str:
    row = lookup(name)
    return (row.fence or row.name) if row else canonical(name)


def highlight(name: str | None) -> str | None:
    row = lookup(name)
    return row.highlight if row else None


def passk_key(name: str | None) -> str | None:
    row = lookup(name)
    return row.passk if row else None


def spellings(name: str | None) -> set[str]:
    """Every spelling of a language, for matching fence tags and suite fields."""
    row = lookup(name)
    if row is None:
        return {canonical(name)}
    return {row.name, *row.aliases, row.fence or row.name, *([row.passk] if row.passk else [])}
