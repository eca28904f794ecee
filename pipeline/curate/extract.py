"""Functions and methods out of one source file, with tree-sitter, for every row of languages.py.

    found = parse_definitions(open("player.gd").read(), "gdscript")
    kept, skipped = select_snippets(found.definitions, min_lines=3, max_lines=200)

What a snippet is (godot-dodo's rule: keep the code human-written, let the labeller write the
instruction): the definition's own text, decorators/attributes/`export` included, comments inside
kept, re-indented to column 0; the comment block right above it and a Python docstring inside it
are cut out of the code and kept in `docstring` (the offline docstring labeller reads it).
Nested functions are snippets of their own too, named `outer.inner` in `qualname`. A definition
containing a syntax error is reported and skipped; everything around it is still extracted.
"""
from __future__ import annotations

import hashlib
import inspect
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from pipeline.curate.languages import LANGUAGES, LanguageSpec, compiled

DEFAULT_MIN_LINES = 3
DEFAULT_MAX_LINES = 200

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_TYPE_NAME_RE = re.compile(r"[A-Za-z_$][\w$]*(?:::[A-Za-z_$][\w$]*)*")
_SCOPE_RE = re.compile(r"[\w$][\w$<>, *&~]*(?:(?:::|\.|:)[\w$][\w$<>, *&~]*)*")
_PY_STRING_RE = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')(.*)\1$", re.S)


@dataclass
class Definition:
    kind: str                    # function | method | class
    name: str
    qualname: str                # outer.inner for nested definitions, Class.method for methods
    class_name: str | None
    code: str
    docstring: str | None
    start_line: int              # 1-based, first line of `code` (decorators included)
    end_line: int
    name_line: int               # the line holding the name (`def`/`func` line)
    error: bool = False          # a syntax error inside: reported, not extracted
    docstring_only: bool = False  # nothing left once the docstring is cut out

    @property
    def lines(self) -> int:
        return self.code.count("\n") + 1


@dataclass
class FileExtraction:
    language: str
    definitions: list[Definition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # "line 12: …" for what did not parse


def normalize_source(text: str) -> str:
    """One newline convention and no BOM, so hashes and line counts agree across platforms."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n") if "\r" in text else text


def estimate_tokens(text: str) -> int:
    """Words and punctuation marks: close to a code BPE count, with no tokenizer to download."""
    return len(_TOKEN_RE.findall(text))


def content_hash(code: str) -> str:
    """Hash that ignores trailing whitespace and line endings: exact duplicates up to those."""
    canonical = "\n".join(line.rstrip() for line in normalize_source(code).strip("\n").split("\n"))
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


def parse_definitions(source: str, language: str, *, include_classes: bool = False) -> FileExtraction:
    """Every function/method definition in `source` (and classes when asked), in file order."""
    spec = LANGUAGES[language]
    parser, query = compiled(language)
    from tree_sitter import QueryCursor

    data = normalize_source(source).encode("utf-8")
    tree = parser.parse(data)
    line_starts = _line_starts(data)
    defs: dict[int, tuple] = {}          # name-node id -> (definition node, name node, receiver node)
    classes: dict[int, str] = {}         # container node id -> its name
    file_class = None
    for _, caps in QueryCursor(query).matches(tree.root_node):
        name_node = caps.get("name", [None])[0]
        if "file_class" in caps:
            file_class = _text(caps["file_class"][0])
        elif "class" in caps:
            node = caps["class"][0]
            classes[node.id] = _clean_type(_text(name_node)) if name_node else "<anonymous>"
            if include_classes:
                defs[node.id] = (node, name_node, None, "class")
        elif "definition" in caps:
            node = caps["definition"][0]
            key = name_node.id if name_node is not None else node.id
            previous = defs.get(key)
            # `local f = function` also matches as a plain assignment inside it: keep the outer
            if previous is None or node.start_byte < previous[0].start_byte:
                defs[key] = (node, name_node, caps.get("class_name", [None])[0], "function")
    def_names = {v[0].id: _split_qualified(_text(v[1]))[1] if v[1] else "<anonymous>"
                 for v in defs.values() if v[3] == "function"}
    result = FileExtraction(language)
    for node, name_node, receiver, kind in sorted(defs.values(), key=lambda v: v[0].start_byte):
        result.definitions.append(_definition(spec, data, line_starts, node, name_node, receiver,
                                              kind, classes, def_names, file_class))
    if tree.root_node.has_error:
        result.errors = _describe_errors(language, tree.root_node, result.definitions)
    return result


def select_snippets(definitions: list[Definition], *, min_lines: int = DEFAULT_MIN_LINES,
                    max_lines: int = DEFAULT_MAX_LINES) -> tuple[list[Definition], Counter]:
    """The definitions worth keeping, and a count of why the others were skipped."""
    kept, skipped = [], Counter[str]()
    for d in definitions:
        reason = ("syntax error" if d.error else "docstring only" if d.docstring_only
                  else "too short" if d.lines < min_lines else "too long" if d.lines > max_lines
                  else None)
        if reason:
            skipped[reason] += 1
        else:
            kept.append(d)
    return kept, skipped


# -- one definition -----------------------------------------------------------------------------
def _definition(spec: LanguageSpec, data: bytes, line_starts: list[int], node, name_node, receiver,
                kind: str, classes: dict, def_names: dict, file_class: str | None) -> Definition:
    scope, name = _split_qualified(_text(name_node)) if name_node is not None else (None, "<anonymous>")
    if kind == "class":
        name = classes.get(node.id, name)
    chain, class_name, directly_in_class = [], None, None
    parent = node.parent
    while parent is not None:
        if parent.id in classes:
            chain.append(classes[parent.id])
            class_name = class_name or classes[parent.id]
            directly_in_class = True if directly_in_class is None else directly_in_class
        elif parent.id in def_names:
            chain.append(def_names[parent.id])
            directly_in_class = False if directly_in_class is None else directly_in_class
        parent = parent.parent
    if receiver is not None:
        class_name = _clean_type(_text(receiver))
    elif class_name is None and scope:
        class_name = scope
    elif class_name is None and file_class and kind != "class":
        class_name = file_class
    if not chain and class_name:
        chain.append(class_name)
    if kind != "class":
        kind = "method" if (directly_in_class or (directly_in_class is None and class_name)) else "function"

    outer = node
    while outer.parent is not None and outer.parent.type in spec.wrappers:
        outer = outer.parent
    first = outer
    prev = first.prev_named_sibling
    while prev is not None and prev.type in spec.leading and prev.end_point[0] >= first.start_point[0] - 1:
        first, prev = prev, prev.prev_named_sibling
    comments = []
    top_row = first.start_point[0]
    while (prev is not None and prev.type in spec.comment_types
           and prev.end_point[0] >= top_row - 1 and _starts_line(data, line_starts, prev)):
        comments.append(_comment_text(_text(prev), spec.comment_prefixes))
        top_row = prev.start_point[0]
        prev = prev.prev_named_sibling
    block = "\n".join(c for c in reversed(comments) if c)
    docs = [block] if block else []

    cut = None
    docstring_only = False
    if spec.docstring_inside:
        cut, inner_doc, docstring_only = _python_docstring(data, line_starts, node)
        if inner_doc:
            docs.insert(0, inner_doc)

    start_row = first.start_point[0]
    line_start = line_starts[start_row]
    whole_line = not data[line_start:first.start_byte].strip()
    begin = line_start if whole_line else first.start_byte
    if cut:
        raw = data[begin:cut[0]] + data[cut[1]:outer.end_byte]
    else:
        raw = data[begin:outer.end_byte]
    code = raw.decode("utf-8", "replace")
    code = textwrap.dedent(code) if whole_line else code
    code = "\n".join(line.rstrip() for line in code.split("\n")).strip("\n")
    return Definition(
        kind=kind, name=name, qualname=".".join([*reversed(chain), name]), class_name=class_name,
        code=code, docstring="\n\n".join(docs) or None, start_line=start_row + 1,
        end_line=outer.end_point[0] + 1,
        name_line=(name_node.start_point[0] if name_node is not None else node.start_point[0]) + 1,
        error=node.has_error, docstring_only=docstring_only,
    )


def _python_docstring(data: bytes, line_starts: list[int], node):
    """(byte range to cut, docstring text, body is only the docstring) for a Python def/class."""
    body = node.child_by_field_name("body")
    if body is None:
        return None, None, False
    statements = [c for c in body.named_children if c.type != "comment"]
    if not statements or statements[0].type != "expression_statement":
        return None, None, False
    first = statements[0]
    if first.named_child_count != 1 or first.named_children[0].type != "string":
        return None, None, False
    raw = _text(first)
    if "f" in raw[:3].split("'")[0].split('"')[0].lower():
        return None, None, False  # an f-string is an expression, never a docstring
    match = _PY_STRING_RE.match(raw)
    text = inspect.cleandoc(match.group(2)) if match else raw
    start_row, end_row = first.start_point[0], first.end_point[0]
    line_start = line_starts[start_row]
    line_end = line_starts[end_row + 1] if end_row + 1 < len(line_starts) else len(data)
    if not data[line_start:first.start_byte].strip() and not data[first.end_byte:line_end].strip():
        cut = (line_start, line_end)
    else:  # shares a line with code: cut just the string and a `;` after it
        end = first.end_byte
        rest = data[end:line_end]
        end += len(rest) - len(rest.lstrip(b" \t;"))
        cut = (first.start_byte, end)
    return cut, text or None, len(statements) == 1


# -- errors -------------------------------------------------------------------------------------
@cache
def _error_query(language: str):
    from tree_sitter import Query

    parser, _ = compiled(language)
    return Query(parser.language, "(ERROR) @error")


def _describe_errors(language: str, root, definitions: list[Definition]) -> list[str]:
    from tree_sitter import QueryCursor

    messages = [f"line {d.name_line}: {d.kind} {d.qualname} has a syntax error; skipped"
                for d in definitions if d.error]
    broken = [(d.start_line, d.end_line) for d in definitions if d.error]
    for node in QueryCursor(_error_query(language)).captures(root).get("error", []):
        a, b = node.start_point[0] + 1, node.end_point[0] + 1
        if not any(lo <= a and b <= hi for lo, hi in broken):
            messages.append(f"line {a}" + (f"-{b}" if b != a else "") + ": could not be parsed")
            broken.append((a, b))
    if not messages:  # only MISSING tokens, which have no ERROR node
        messages.append("the file has a syntax error (a token is missing)")
    return messages


# -- small helpers ------------------------------------------------------------------------------
def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    find = data.find
    i = find(b"\n")
    while i != -1:
        starts.append(i + 1)
        i = find(b"\n", i + 1)
    return starts


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _starts_line(data: bytes, line_starts: list[int], node) -> bool:
    return not data[line_starts[node.start_point[0]]:node.start_byte].strip()


def _split_qualified(text: str) -> tuple[str | None, str]:
    """`A::f` -> (A, f); `M.g` / `M:h` (Lua) -> (M, g); anything else (`[Symbol.iterator]`) as is."""
    text = " ".join(text.split())
    for sep in ("::", ":", "."):
        scope, found, name = text.rpartition(sep)
        if found and name and _SCOPE_RE.fullmatch(scope):
            return _clean_type(scope), name
    return None, text


def _clean_type(text: str) -> str:
    """`*Server` -> Server, `Vec<T>` -> Vec, `Generic[T]` -> Generic (receivers, impl targets)."""
    match = _TYPE_NAME_RE.search(text)
    return match.group(0) if match else text


def _comment_text(text: str, prefixes: tuple[str, ...]) -> str:
    out = []
    for line in text.strip().split("\n"):
        line = line.strip()
        for prefix in prefixes:
            if line.startswith(prefix):
                line = line[len(prefix):]
                break
        for prefix in prefixes:
            if prefix in ("*/", "]]") and line.endswith(prefix):
                line = line[: -len(prefix)]
        out.append(line.strip())
    return "\n".join(out).strip()
