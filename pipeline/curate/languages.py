"""How extraction reads each language, as data: a new language is a row in pipeline/languages.py
(name, grammar wheel, file extensions) plus its query row here.

Each row's tree-sitter query names what to take with captures:
  @definition  a function or method (its text, widened by `wrappers`/`leading`, is the snippet)
  @name        the definition's name (qualified names like `A::f`, `M.g`, `M:h` are split)
  @class       a class-like container (class, impl block, trait…): gives methods their class
  @class_name  the receiver type of a method defined outside its type (Go)
  @file_class  a name that makes the whole file a class (GDScript's `class_name`)
Nothing else in pipeline/extract.py is language-specific.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath

from pipeline import languages as registry


@dataclass(frozen=True)
class LanguageSpec:
    name: str                            # a row of pipeline/languages.py (grammar, extensions, highlight)
    query: str
    comment_types: frozenset[str]        # node types of comments (the block above is dropped)
    wrappers: frozenset[str] = frozenset()   # parents that belong to the definition (decorators, export)
    leading: frozenset[str] = frozenset()    # siblings just above that belong to it (attributes)
    docstring_inside: bool = False       # first string statement of the body is a docstring
    comment_prefixes: tuple[str, ...] = field(default=())  # stripped to turn comments into text

    @property
    def grammar(self) -> str:
        grammar = registry.LANGUAGES[self.name].grammar
        if grammar is None:  # a row here has a tree-sitter query, so its language must name a wheel
            raise LookupError(f"pipeline/languages.py names no tree-sitter grammar for {self.name}")
        return grammar

    @property
    def grammar_function(self) -> str:
        return registry.LANGUAGES[self.name].grammar_function

    @property
    def extensions(self) -> tuple[str, ...]:
        return registry.LANGUAGES[self.name].extensions

    @property
    def highlight(self) -> str | None:
        return registry.LANGUAGES[self.name].highlight


_C_FUNCTIONS = """
(function_definition declarator: (function_declarator declarator: (_) @name)) @definition
(function_definition declarator: (_ declarator: (function_declarator declarator: (_) @name))) @definition
(function_definition declarator: (_ declarator: (_ declarator: (function_declarator declarator: (_) @name)))) @definition
"""

_JS_FUNCTIONS = """
(function_declaration name: (identifier) @name) @definition
(generator_function_declaration name: (identifier) @name) @definition
(method_definition name: (_) @name) @definition
(lexical_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition
(variable_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition
(class_declaration name: (_) @name) @class
(class) @class
"""

_SLASH = ("///", "//!", "//", "/**", "/*", "*/", "*")

LANGUAGES: dict[str, LanguageSpec] = {spec.name: spec for spec in [
    LanguageSpec(
        name="python", query="""
        (function_definition name: (identifier) @name) @definition
        (class_definition name: (identifier) @name) @class
        """,
        comment_types=frozenset({"comment"}), wrappers=frozenset({"decorated_definition"}),
        docstring_inside=True, comment_prefixes=("#",),
    ),
    LanguageSpec(
        name="gdscript", query="""
        (function_definition name: (name) @name) @definition
        (constructor_definition "_init" @name) @definition
        (class_definition name: (name) @name) @class
        (class_name_statement name: (name) @file_class)
        """,
        comment_types=frozenset({"comment"}), leading=frozenset({"annotation"}),
        comment_prefixes=("##", "#"),
    ),
    LanguageSpec(
        name="javascript", query=_JS_FUNCTIONS,
        comment_types=frozenset({"comment"}), wrappers=frozenset({"export_statement"}),
        leading=frozenset({"decorator"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="typescript", query=_JS_FUNCTIONS + "(abstract_class_declaration name: (_) @name) @class\n",
        comment_types=frozenset({"comment"}), wrappers=frozenset({"export_statement"}),
        leading=frozenset({"decorator"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="tsx", query=_JS_FUNCTIONS + "(abstract_class_declaration name: (_) @name) @class\n",
        comment_types=frozenset({"comment"}), wrappers=frozenset({"export_statement"}),
        leading=frozenset({"decorator"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="go", query="""
        (function_declaration name: (identifier) @name) @definition
        (method_declaration receiver: (parameter_list (parameter_declaration type: (_) @class_name))
            name: (field_identifier) @name) @definition
        """,
        comment_types=frozenset({"comment"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="rust", query="""
        (function_item name: (identifier) @name) @definition
        (impl_item type: (_) @name) @class
        (trait_item name: (type_identifier) @name) @class
        """,
        comment_types=frozenset({"line_comment", "block_comment"}),
        leading=frozenset({"attribute_item"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="java", query="""
        (method_declaration name: (identifier) @name body: (block)) @definition
        (constructor_declaration name: (identifier) @name) @definition
        (class_declaration name: (identifier) @name) @class
        (interface_declaration name: (identifier) @name) @class
        (enum_declaration name: (identifier) @name) @class
        (record_declaration name: (identifier) @name) @class
        """,
        comment_types=frozenset({"line_comment", "block_comment"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="c", query=_C_FUNCTIONS,
        comment_types=frozenset({"comment"}), comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="cpp", query=_C_FUNCTIONS + """
        (class_specifier name: (_) @name body: (field_declaration_list)) @class
        (struct_specifier name: (_) @name body: (field_declaration_list)) @class
        """,
        comment_types=frozenset({"comment"}), wrappers=frozenset({"template_declaration"}),
        comment_prefixes=_SLASH,
    ),
    LanguageSpec(
        name="lua", query="""
        (function_declaration name: (_) @name) @definition
        (variable_declaration (assignment_statement (variable_list name: (_) @name)
            (expression_list value: (function_definition)))) @definition
        (assignment_statement (variable_list name: (_) @name)
            (expression_list value: (function_definition))) @definition
        """,
        comment_types=frozenset({"comment"}), comment_prefixes=("--[[", "]]", "--"),
    ),
]}

_BY_EXTENSION = {ext: spec for spec in LANGUAGES.values() for ext in spec.extensions}


def language_for_path(path: str) -> LanguageSpec | None:
    """The row whose extension matches the file name, or None for files we do not extract."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())


@cache
def compiled(name: str):
    """(Parser, Query) for a language, built once per process; a missing wheel is a clear error."""
    from tree_sitter import Language, Parser, Query

    spec = LANGUAGES[name]
    try:
        module = importlib.import_module(spec.grammar)
    except ImportError as exc:
        raise RuntimeError(
            f"the tree-sitter grammar for {name} is not installed (pip install "
            f"{spec.grammar.replace('_', '-')})"
        ) from exc
    language = Language(getattr(module, spec.grammar_function)())
    return Parser(language), Query(language, spec.query)
