"""One pass over a tree-sitter GDScript tree: what the answer defines, what it references,
and the errors Godot's analyzer would report that no grammar sees.

Scopes are approximated: class-level names (members, functions, signals, enums, inner
classes) are visible everywhere in the answer; parameters and locals are visible in the
function (or property accessor) that declares them, flat across its blocks and lambdas.
Semantic checks: duplicate members, empty blocks, value returned from ``-> void``,
``:=`` from null, literal type mismatch (declaration or assignment), assignment to a
constant, break/continue outside a loop, argument count of calls to functions the answer
defines in the same class.
"""
from __future__ import annotations

from .findings import Finding

_SCOPE_DEF_TYPES = frozenset({
    "function_definition", "variable_statement", "const_statement", "signal_statement",
    "enum_definition", "class_definition", "export_variable_statement",
    "onready_variable_statement"})
_PARAM_PARENTS = frozenset({"typed_parameter", "default_parameter", "typed_default_parameter",
                            "variadic_parameter"})
_NEW_SCOPE = frozenset({"function_definition", "set_body", "get_body"})
_LOOPS = frozenset({"for_statement", "while_statement"})
_LOOP_BARRIERS = frozenset({"function_definition", "lambda", "set_body", "get_body", "source",
                            "class_definition"})
_LITERAL_TYPES = {"string": "String", "integer": "int", "float": "float",
                  "true": "bool", "false": "bool"}
_INCOMPATIBLE = {"int": {"String"}, "float": {"String"}, "bool": {"String"},
                 "String": {"int", "float", "bool"}, "StringName": {"int", "float", "bool"}}


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _line(node) -> int:
    return node.start_point[0] + 1


class Analysis:
    def __init__(self):
        self.global_names: set[str] = set()
        self.local_names: dict[int, set[str]] = {}
        self.refs: list[tuple[str, int, str, str | None, int]] = []  # name, line, kind, qualifier, scope
        self.bases: list[str | None] = []  # the script's own base first (None: no extends)
        self.semantic: list[Finding] = []
        self.consts: set[str] = set()
        self.typed: dict[tuple[int, str], str] = {}  # (scope, name) -> declared builtin type
        self.assignments: list[tuple[str, int, int, str | None]] = []  # name, line, scope, literal type
        self.functions: dict[tuple[int, str], tuple[int, int | None]] = {}  # (class, name) -> (min, max)
        self.function_counts: dict[str, int] = {}
        self.calls: list[tuple[str, int, int, int]] = []  # name, args, line, class

    @property
    def defined(self) -> set[str]:
        out = set(self.global_names)
        for names in self.local_names.values():
            out |= names
        return out

    def visible(self, name: str, scope: int) -> bool:
        return name in self.global_names or name in self.local_names.get(scope, ())

    def define(self, name: str, scope: int) -> None:
        (self.global_names if scope == 0 else self.local_names.setdefault(scope, set())).add(name)


def analyze(tree) -> Analysis:
    out = Analysis()
    main_base = None
    next_scope, next_class = 1, 1
    stack = [(tree.root_node, 0, 0)]  # node, scope id, class id
    while stack:
        node, scope, cls = stack.pop()
        kind = node.type
        if kind == "name":
            parent = node.parent.type
            local = scope != 0 and parent in ("variable_statement", "const_statement", "lambda")
            out.define(_text(node), scope if local else 0)
            continue
        if kind == "identifier":
            _identifier(node, scope, out)
            continue
        if kind in _NEW_SCOPE:
            scope, next_scope = next_scope, next_scope + 1
            if kind == "function_definition":
                _record_function(node, cls, out)
        elif kind == "class_definition":
            cls, next_class = next_class, next_class + 1
        elif kind == "extends_statement":
            base = _base_name(node)
            if node.parent.type == "source":
                main_base = base
            else:
                out.bases.append(base)
        elif kind in ("source", "class_body"):
            _check_duplicates(node, out)
        elif kind == "body" and node.named_child_count == 0:
            out.semantic.append(Finding("gd-empty-block", _line(node),
                                        "expected an indented block", fix="add a statement (pass)",
                                        level="semantic"))
        elif kind in ("break_statement", "continue_statement"):
            _check_in_loop(node, out)
        elif kind in ("variable_statement", "const_statement"):
            _declaration(node, scope, out)
        elif kind == "assignment":
            _assignment(node, scope, out)
        elif kind == "call" and node.children and node.children[0].type == "identifier":
            args = node.child_by_field_name("arguments") or (node.children[1] if len(node.children) > 1 else None)
            count = args.named_child_count if args is not None else 0
            out.calls.append((_text(node.children[0]), count, _line(node), cls))
        if kind == "function_definition":
            _check_void_return(node, out)
        stack.extend((child, scope, cls) for child in node.children)
    out.bases.insert(0, main_base)
    _post_checks(out)
    return out


def _identifier(node, scope: int, out: Analysis) -> None:
    parent = node.parent
    ptype = parent.type
    name = _text(node)
    line = _line(node)
    first = parent.children[0] == node
    if ptype in ("parameters", "pattern_binding"):
        out.define(name, scope)
    elif ptype in _PARAM_PARENTS:
        (out.define(name, scope) if first or ptype == "variadic_parameter"
         else out.refs.append((name, line, "name", None, scope)))
    elif ptype == "enumerator":
        (out.define(name, 0) if first else out.refs.append((name, line, "name", None, scope)))
    elif ptype == "for_statement":
        (out.define(name, scope) if parent.child_by_field_name("left") == node
         else out.refs.append((name, line, "name", None, scope)))
    elif ptype == "type":
        if parent.parent is not None and parent.parent.type != "extends_statement":
            out.refs.append((name, line, "type", None, scope))
    elif ptype == "call":
        out.refs.append((name, line, "call" if first else "name", None, scope))
    elif ptype == "attribute":
        head = parent.children[0]
        if first:
            out.refs.append((name, line, "receiver", None, scope))
        elif head.type == "identifier" and parent.children[2] == node:
            out.refs.append((name, line, "attr", _text(head), scope))
    elif ptype == "attribute_call":
        holder = parent.parent
        if holder.type == "attribute" and holder.children[2] == parent \
                and holder.children[0].type == "identifier":
            out.refs.append((name, line, "attr", _text(holder.children[0]), scope))
    elif ptype in ("annotation", "ERROR"):
        return
    elif ptype == "pair" and first and len(parent.children) > 1 and parent.children[1].type == "=":
        return  # Lua-style dictionary key {key = value}
    elif ptype == "binary_operator" and not first and len(parent.children) == 3 \
            and parent.children[1].type in ("is", "as"):
        out.refs.append((name, line, "type", None, scope))
    else:
        out.refs.append((name, line, "name", None, scope))


def _base_name(extends_node) -> str | None:
    for child in extends_node.children:
        if child.type == "type" and child.children and child.children[0].type == "identifier":
            return _text(child.children[0])
    return None  # extends "res://path.gd": a project script we cannot see


def _record_function(func, cls: int, out: Analysis) -> None:
    name_node = func.child_by_field_name("name")
    params = func.child_by_field_name("parameters")
    if name_node is None or params is None:
        return
    name = _text(name_node)
    out.function_counts[name] = out.function_counts.get(name, 0) + 1
    required, total, variadic = 0, 0, False
    for param in params.named_children:
        if param.type == "variadic_parameter":
            variadic = True
        elif param.type in ("identifier", "typed_parameter"):
            required += 1
            total += 1
        else:
            total += 1
    out.functions[(cls, name)] = (required, None if variadic else total)


def _check_duplicates(scope, out: Analysis) -> None:
    seen: dict[str, int] = {}
    for child in scope.children:
        if child.type not in _SCOPE_DEF_TYPES:
            continue
        name_node = child.child_by_field_name("name")
        if name_node is None:
            continue
        name, line = _text(name_node), _line(child)
        if name in seen:
            out.semantic.append(Finding(
                "gd-duplicate-member", line, f"'{name}' is already declared in this class (line {seen[name]})",
                fix=f"rename or remove one '{name}'", level="semantic"))
        else:
            seen[name] = line


def _check_in_loop(node, out: Analysis) -> None:
    current = node.parent
    while current is not None and current.type not in _LOOP_BARRIERS:
        if current.type in _LOOPS:
            return
        current = current.parent
    word = "break" if node.type == "break_statement" else "continue"
    out.semantic.append(Finding("gd-outside-loop", _line(node), f"'{word}' outside of a loop",
                                fix=f"remove '{word}' or use return", level="semantic"))


def return_statements(func):
    """The function's own return statements (not those of lambdas or inner functions/classes)."""
    stack = [func.child_by_field_name("body")]
    while stack:
        node = stack.pop()
        if node is None or node.type in ("lambda", "function_definition", "class_definition"):
            continue
        if node.type == "return_statement":
            yield node
            continue
        stack.extend(node.children)


def _check_void_return(func, out: Analysis) -> None:
    rtype = func.child_by_field_name("return_type")
    if rtype is None or _text(rtype).strip() != "void":
        return
    for node in return_statements(func):
        if node.named_child_count > 0:
            out.semantic.append(Finding(
                "gd-void-return-value", _line(node), "a function declared '-> void' cannot return a value",
                fix="drop the value or declare the real return type", level="semantic"))


def _declaration(var, scope: int, out: Analysis) -> None:
    name_node = var.child_by_field_name("name")
    value = var.child_by_field_name("value")
    vtype = var.child_by_field_name("type")
    if name_node is not None and var.type == "const_statement":
        out.consts.add(_text(name_node))
    if vtype is None:
        return
    declared = _text(vtype).strip()
    if name_node is not None and declared in _INCOMPATIBLE:
        out.typed[(scope, _text(name_node))] = declared
    if value is None:
        return
    if vtype.type == "inferred_type" and value.type == "null":
        out.semantic.append(Finding(
            "gd-infer-from-null", _line(var), "cannot infer a type with ':=' from null",
            fix="give an explicit type (var x: Node = null) or use '='", level="semantic"))
        return
    literal = _LITERAL_TYPES.get(value.type)
    if literal and literal in _INCOMPATIBLE.get(declared, ()):
        out.semantic.append(_mismatch(_line(var), literal, declared))


def _mismatch(line: int, literal: str, declared: str) -> Finding:
    return Finding("gd-type-mismatch", line, f"cannot assign a value of type {literal} to a "
                   f"variable of type {declared}", fix=f"use a {declared} value or change the type",
                   level="semantic")


def _assignment(node, scope: int, out: Analysis) -> None:
    left = node.child_by_field_name("left")
    right = node.child_by_field_name("right")
    if left is None or left.type != "identifier":
        return
    literal = _LITERAL_TYPES.get(right.type) if right is not None else None
    out.assignments.append((_text(left), _line(node), scope, literal))


def _post_checks(out: Analysis) -> None:
    for name, line, scope, literal in out.assignments:
        if name in out.consts and name not in out.local_names.get(scope, ()):
            out.semantic.append(Finding("gd-assign-constant", line, f"cannot assign a new value to "
                                        f"the constant '{name}'", fix="declare it with var",
                                        level="semantic"))
        declared = out.typed.get((scope, name)) or out.typed.get((0, name))
        if literal and declared and literal in _INCOMPATIBLE.get(declared, ()):
            out.semantic.append(_mismatch(line, literal, declared))
    for name, count, line, cls in out.calls:
        signature = out.functions.get((cls, name))
        if signature is None or out.function_counts.get(name, 0) != 1:
            continue
        low, high = signature
        if count < low or (high is not None and count > high):
            expected = f"{low}" if low == high else f"{low}..{'' if high is None else high}"
            out.semantic.append(Finding("gd-argument-count", line, f"{name}() takes {expected} "
                                        f"argument(s) but {count} were given", level="semantic"))
