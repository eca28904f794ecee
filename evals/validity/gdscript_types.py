"""Light type inference over a GDScript answer, and the engine-API checks it makes possible.

Types come from declarations (``var t: Timer``), ``:=`` and ``=`` initializers, literals, engine
constructors (``Timer.new()``, ``Vector2(...)``), the engine's return types (``get_tree()`` is a
SceneTree), singletons (``Input``), ``$Path``/``get_node()`` (a Node) and ``as`` casts. A type is
one of: a built-in value (Vector2, String …: no script can add members), an *exact* engine
object (made by the engine or ``.new()``: its class is known), an *open* one (a parameter or
node that may carry a user script, so only the engine members it has are checked), or a class
itself (``JSON.parse``). Everything else is unknown and never produces a finding.

When (``Finding.when``), Godot 3: its analyzer types only what is declared (``: T``, ``:=``),
literals, constructors, engine return and property types; a plain ``var x = Vector2()`` is a
Variant it does not check, and an engine *object* (File, SceneTree, Input …) may carry a
script, so a member it lacks is not an analyzer error either. Such findings are "run": the
script compiles and the line fails when it runs (still invalid for a reviewer). A found
method's argument count on a typed object, and anything on a typed built-in value, is "compile".

Checks (level "refs" unless noted; Godot 4 rules only where Godot 3 accepts the code):
* gd-no-member — a method/property a built-in value or exact engine object does not have;
  gd-api-other-version when the other major version has it (``get_tree().change_scene`` in 4);
* gd-engine-argument-count — a call to an engine method or global function with too few/many
  arguments;
* gd-non-static-call (4) — an instance method called on a class (``JSON.parse(text)``);
* gd-signal-call (4) — a signal called like a method (``await timer.timeout()``);
* gd-invalid-operator (semantic) — an arithmetic operator the types do not define ("a" + 5);
* gd-native-override (4) — a script method overriding a non-virtual engine method, or a
  virtual override whose parameter count does not match (``func _process():``);
* gd-godot4-value-in-godot3 (3) — a signal used as an object (``died.emit()``) or a function
  passed as a value (``connect("timeout", self._on_timeout)``): Godot 3 has neither;
* Godot 3 only, what its analyzer (``--check-only``) also rejects: gd-return-mismatch (a
  literal of another type returned from a typed function, or a bare ``return`` in one),
  gd-type-mismatch for literals the analyzer cannot convert (``var v: Vector2 = 1``),
  gd-invalid-operator for comparisons (``1 < "a"``), gd-native-override for a virtual method
  declared with the wrong parameter count (``func _process():``), members of the base class's
  typed properties (``text.size()`` in a Label), gd-engine-argument-count for an inner class's
  constructor (``Item.new()`` against its ``_init``);
* gd-unknown-engine-class — a class that is in neither engine version but looks like an engine
  class (an engine name plus a suffix: ``KinematicBody2DNode``); gd-api-other-version for a
  class of the other version that no rename rule reported.
"""
from __future__ import annotations

from .engine_api import BUILTIN_TYPES, EngineApi, engine_api
from .findings import Finding
from .gdscript_analysis import return_statements

VALUE, EXACT, OPEN, CLASS = "value", "exact", "open", "class"
_LITERALS = {"integer": "int", "float": "float", "string": "String", "true": "bool", "false": "bool",
             "array": "Array", "dictionary": "Dictionary", "string_name": "StringName",
             "node_path": "NodePath"}
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_NO_OVERRIDE_CHECK = frozenset({"_init", "_static_init"})
_COMPARISON = frozenset({"==", "!=", "<", ">", "<=", ">="})
_NUMBERS = frozenset({"int", "float", "bool"})
_INCOMPATIBLE_STRING = frozenset({"int", "float", "bool"})  # already gd-type-mismatch (analysis)


def _soft(found):
    """The same type, known to us but not to Godot 3's analyzer (a plain ``var x = ...``)."""
    return (found[0], found[1], True) if found else found


def _is_soft(found) -> bool:
    return bool(found) and len(found) > 2


def _converts_godot3(literal: str, declared: str) -> bool:
    """Whether Godot 3's analyzer accepts a literal of type ``literal`` for ``declared``
    (checked with godot3-server: Color and NodePath from a String, numbers among themselves,
    a Pool*Array from an array literal; null only for objects)."""
    if literal == declared or (literal in _NUMBERS and declared in _NUMBERS):
        return True
    if literal == "String" and declared in ("Color", "NodePath", "StringName"):
        return True
    if literal == "int" and declared == "Color":
        return True
    return literal == "Array" and declared.startswith("Pool")


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _line(node) -> int:
    return node.start_point[0] + 1


class TypeChecker:
    def __init__(self, target: str, base: str | None, defined: set[str], flagged: set[str]):
        self.target = target
        self.api: EngineApi = engine_api(target)
        self.other: EngineApi = engine_api("3" if target == "4" else "4")
        self.base = base if base and self.api.has_class(base) else None
        self.defined = defined
        self.flagged = flagged
        self.findings: list[Finding] = []
        self.members: dict[str, tuple] = {}
        self.locals: dict[str, tuple] = {}
        self.done: set[int] = set()
        self.signals: set[str] = set()
        self.functions: set[str] = set()
        self.variables: set[str] = set()
        self.inner_inits: dict[str, tuple[int, int | None]] = {}  # inner class -> _init (min, max)

    # ------------------------------------------------------------------ types
    def type_from_name(self, name: str | None, made_here: bool = False):
        if not name or name in ("void", "Variant"):
            return None
        name = name.split("[", 1)[0].split("\\", 1)[0]
        if name in BUILTIN_TYPES:
            return (name, VALUE) if self.api.has_class(name) else None
        if not self.api.has_class(name):
            return None
        exact = made_here or not self.api.is_scriptable(name)
        return (name, EXACT if exact else OPEN)

    def error(self, rule: str, node, message: str, fix: str | None = None, level: str = "refs",
              when: str = "compile"):
        self.findings.append(Finding(rule, _line(node), message, fix=fix, level=level, when=when))

    # ------------------------------------------------------------------ inference
    def infer(self, node):
        if node is None:
            return None
        self.done.add(node.id)
        kind = node.type
        if kind in _LITERALS:
            return self.type_from_name(_LITERALS[kind])
        if kind == "parenthesized_expression" and node.named_child_count == 1:
            return self.infer(node.named_children[0])
        if kind == "identifier":
            return self._identifier_type(_text(node))
        if kind == "get_node":
            return ("Node", OPEN)
        if kind == "call":
            return self._call(node)
        if kind == "attribute":
            return self._attribute(node)
        if kind == "binary_operator":
            return self._binary(node)
        if kind == "unary_operator" and node.named_child_count == 1 and _text(node)[:1] in "-+":
            found = self.infer(node.named_children[0])
            return found if found and found[1] == VALUE else None
        return None

    def _identifier_type(self, name: str):
        if name in self.locals:
            return self.locals[name]
        if name in self.members:
            return self.members[name]
        if name in self.defined:
            return None
        if self.target == "3" and self.base and name[:1].islower():
            ptype = self.api.property_type(self.base, name)
            if ptype:
                return self.type_from_name(ptype)  # text in a Label: Godot 3 types it
        if name in self.api.singletons:
            return (self.api.singletons[name], EXACT)
        if self.api.has_class(name) and name not in BUILTIN_TYPES:
            return (name, CLASS)
        if name in BUILTIN_TYPES and self.api.has_class(name):
            return (name, CLASS)
        return None

    def _args(self, call_node):
        args = call_node.child_by_field_name("arguments")
        if args is None:
            args = next((c for c in call_node.children if c.type == "arguments"), None)
        named = list(args.named_children) if args is not None else []
        for arg in named:
            self.infer(arg)
        return len(named)

    def _check_count(self, node, what: str, signature, count: int, when: str = "compile") -> None:
        low, high = signature[1], signature[2]
        if count < low or (high != -1 and count > high):
            expected = str(low) if low == high else f"{low}..{'' if high == -1 else high}"
            self.error("gd-engine-argument-count", node, f"{what}() takes {expected} argument(s) "
                       f"in Godot {self.target} but {count} were given", fix="check the class reference",
                       when=when)

    def _call(self, node):
        callee = node.children[0]
        count = self._args(node)
        if callee.type != "identifier":
            return None
        name = _text(callee)
        if name in self.defined or name in self.locals:
            return None
        if name in BUILTIN_TYPES and self.api.has_class(name):
            sig = self.api.method(name, name)
            if sig:
                # Every value type has a default and a copy constructor (Godot 3's reference
                # lists neither).
                self._check_count(node, name, [sig[0], 0, -1 if sig[2] == -1 else max(sig[2], 1)], count)
            return (name, VALUE)
        if name in ("load", "preload"):
            return ("Resource", OPEN)
        sig = self.api.functions.get(name)
        if sig is None and self.base:
            sig = self.api.method(self.base, name)
        if sig is None:
            return None
        self._check_count(node, name, sig, count)
        return self.type_from_name(sig[0])

    def _skip(self, node) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            self.done.add(current.id)
            stack.extend(current.children)

    def godot3_value(self, node, name: str, what: str) -> None:
        self.error("gd-godot4-value-in-godot3", node, f"'{name}' is a {what}; Godot 3 cannot use it as "
                   "a value", fix='emit_signal("name") / connect("signal", self, "method")')

    def _attribute(self, node):
        parts = [c for c in node.children if c.type != "."]
        if self.target == "3" and parts[0].type == "identifier" and _text(parts[0]) in self.signals:
            self.godot3_value(parts[0], _text(parts[0]), "signal")
        if parts[0].type == "binary_operator":
            # tree-sitter-gdscript mis-groups `a - b.c.d * e` as (a - b.c).d * e: not typeable.
            self._skip(node)
            return None
        if self.target == "3" and len(parts) == 2 and parts[0].type == "identifier" \
                and _text(parts[0]) in self.inner_inits and parts[1].type == "attribute_call" \
                and _text(parts[1].children[0]) == "new":
            low, high = self.inner_inits[_text(parts[0])]
            self._check_count(parts[1], f"{_text(parts[0])}.new", [None, low, -1 if high is None else high],
                              self._args(parts[1]))
            self.done.update(part.id for part in parts)
            return None
        current = self.infer(parts[0])
        head_is_self = parts[0].type == "identifier" and _text(parts[0]) == "self"
        if head_is_self and self.base:
            current = (self.base, OPEN)
        for part in parts[1:]:
            self.done.add(part.id)
            if part.type == "attribute_call":
                name_node = part.children[0]
                count = self._args(part)
                current = self._member(current, _text(name_node), name_node, count, head_is_self)
            elif part.type == "identifier":
                current = self._member(current, _text(part), part, None, head_is_self)
            else:
                for child in part.named_children:
                    self.infer(child)
                current = None
            head_is_self = False
        return current

    def _member(self, owner, name: str, node, count: int | None, is_self: bool):
        """Type of ``owner.name`` (a call when ``count`` is not None); findings on misuse."""
        if owner is None or name in self.flagged:
            return None
        found = self._member_type(owner, name, node, count, is_self)
        return _soft(found) if _is_soft(owner) else found

    def _member_type(self, owner, name: str, node, count: int | None, is_self: bool):
        cls, kind = owner[:2]
        if not self.api.has_class(cls):
            return None
        if is_self and name in self.defined:
            return None
        member = self.api.member_kind(cls, name)
        if member is None:
            if kind == CLASS and name == "new":
                return self.type_from_name(cls, made_here=True)
            if cls == "Dictionary" and count is None:
                return None  # dict.key reads a key
            self._missing(owner, name, node, count is not None)
            return None
        if member == "signal":
            if count is not None and self.target == "4":
                self.error("gd-signal-call", node, f"{cls}.{name} is a signal, not a method",
                           fix=f"await {name} / {name}.emit() / {name}.connect(callable)")
            return ("Signal", VALUE) if self.target == "4" and self.api.has_class("Signal") else None
        if member == "property":
            ptype = self.api.property_type(cls, name)
            return None if count is not None else self.type_from_name(ptype)
        if member == "constant":
            # Vector2.ZERO is a Vector2; an engine class's constants are enum ints.
            if count is not None:
                return None
            return (cls, VALUE) if cls in BUILTIN_TYPES else self.type_from_name("int")
        sig = self.api.method(cls, name)
        if sig is None:  # a property accessor (set_x/get_x)
            return None
        if count is None:
            return ("Callable", VALUE) if self.target == "4" else None
        if kind == CLASS and "s" not in sig[3] and self.target == "4" and cls not in BUILTIN_TYPES:
            self.error("gd-non-static-call", node, f"cannot call the non-static method {name}() on "
                       f"the class {cls}; make an instance ({cls}.new()) first",
                       fix=f"{cls}.new().{name}(...) or a static method")
            return None
        self._check_count(node, f"{cls}.{name}", sig, count,
                          "run" if self.target == "3" and _is_soft(owner) else "compile")
        return self.type_from_name(sig[0])

    def _missing(self, owner, name: str, node, is_call: bool) -> None:
        cls, kind = owner[:2]
        # Godot 3's analyzer checks members of typed built-in values only (see the docstring).
        when = "run" if self.target == "3" and (_is_soft(owner) or cls not in BUILTIN_TYPES) else "compile"
        what = f"{cls}.{name}{'()' if is_call else ''}"
        elsewhere = self.other.has_class(cls) and self.other.member_kind(cls, name)
        if elsewhere and kind in (VALUE, EXACT, CLASS, OPEN):
            self.error("gd-api-other-version", node, f"{what} is Godot {self.other.version} API; "
                       f"{cls} has no such member in Godot {self.target}",
                       fix="use the Godot " + self.target + " name (see the class reference)", when=when)
        elif kind != OPEN:
            upper = name.upper()
            fix = f"{cls}.{upper}" if upper != name and self.api.member_kind(cls, upper) else \
                f"use a member {cls} has (see the class reference)"
            self.error("gd-no-member", node, f"{what} does not exist in Godot {self.target}", fix=fix,
                       when=when)

    def _binary(self, node):
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        op_node = node.child_by_field_name("op")
        op = _text(op_node) if op_node is not None else ""
        if op in ("as",):
            self.infer(left)
            return self.type_from_name(_text(right)) if right is not None else None
        lt, rt = self.infer(left), self.infer(right)
        soft = _is_soft(lt) or _is_soft(rt)
        both = bool(lt and rt and lt[1] == VALUE and rt[1] == VALUE)
        if op in _COMPARISON:
            # Godot 3's analyzer rejects comparing typed values of unrelated types (1 < "a").
            if self.target == "3" and both and not soft and self.api.operator_result(lt[0], op, rt[0]) is None:
                self._invalid_operator(node, lt, rt, op, "compile")
            return self.type_from_name("bool")
        if op in ("is", "and", "or", "&&", "||", "in", "not in"):
            return self.type_from_name("bool")
        if op not in _ARITHMETIC or not both:
            return None
        result = self.api.operator_result(lt[0], op, rt[0])
        if result is None:
            self._invalid_operator(node, lt, rt, op, "run" if self.target == "3" and soft else "compile")
            return None
        found = None if result is True else self.type_from_name(result)
        return _soft(found) if soft else found

    def _invalid_operator(self, node, lt, rt, op: str, when: str) -> None:
        self.error("gd-invalid-operator", node, f"invalid operands {lt[0]} and {rt[0]} for "
                   f"operator '{op}'", fix="convert one side (str(), int(), float())",
                   level="semantic", when=when)

    # ------------------------------------------------------------------ statements
    def declare(self, var_node, table: dict) -> None:
        name_node = var_node.child_by_field_name("name")
        vtype = var_node.child_by_field_name("type")
        value = var_node.child_by_field_name("value")
        before = len(self.findings)
        inferred = self.infer(value) if value is not None else None
        if self.target == "3" and inferred is None and vtype is not None and vtype.type == "inferred_type":
            # var x := obj.missing(): Godot 3 cannot infer the type, a compile error.
            self.findings[before:] = [Finding(f.rule_id, f.line, f.message, f.fix, f.severity, f.level)
                                      if f.rule_id in ("gd-no-member", "gd-api-other-version") else f
                                      for f in self.findings[before:]]
        if name_node is None:
            return
        if vtype is not None and vtype.type != "inferred_type":
            declared = self.type_from_name(_text(vtype).strip())
            if declared and inferred and inferred[1] == EXACT and inferred[0] == declared[0]:
                declared = inferred  # var t: Timer = Timer.new() is exactly a Timer
            table[_text(name_node)] = declared
        elif vtype is None and self.target == "3":
            table[_text(name_node)] = _soft(inferred)  # var x = ... is a Variant to Godot 3
        else:
            table[_text(name_node)] = inferred
        if self.target == "3" and vtype is not None and vtype.type != "inferred_type" and value is not None:
            self._literal_mismatch(var_node, _text(vtype).strip(), value)

    def _literal_mismatch(self, var_node, declared: str, value) -> None:
        """Godot 3: a literal its analyzer cannot convert to the declared built-in type."""
        literal = _LITERALS.get(value.type) or ("null" if value.type == "null" else None)
        if literal and declared in BUILTIN_TYPES and not _converts_godot3(literal, declared) \
                and not (literal == "String" and declared in _INCOMPATIBLE_STRING):
            self.error("gd-type-mismatch", var_node, f"cannot assign a value of type {literal} to a "
                       f"variable of type {declared}", fix=f"use a {declared} value or change the type",
                       level="semantic")

    def check_returns(self, func) -> None:
        """Godot 3: a typed function returning a literal of another type, or returning nothing."""
        rtype = func.child_by_field_name("return_type")
        declared = _text(rtype).strip() if rtype is not None else ""
        if self.target != "3" or not declared or declared == "void" or declared not in BUILTIN_TYPES:
            return
        for node in return_statements(func):
            value = node.named_children[0] if node.named_child_count else None
            literal = None if value is None else (_LITERALS.get(value.type)
                                                  or ("null" if value.type == "null" else None))
            if value is None:
                self.error("gd-return-mismatch", node, f"a function declared '-> {declared}' must "
                           "return a value", fix="return a value or declare '-> void'", level="semantic")
            elif literal and literal != declared:
                self.error("gd-return-mismatch", node, f"returns a {literal} from a function declared "
                           f"'-> {declared}'", fix=f"return a {declared} or change the return type",
                           level="semantic")

    def check_override(self, func) -> None:
        if not self.base:
            return
        name_node = func.child_by_field_name("name")
        params = func.child_by_field_name("parameters")
        if name_node is None or params is None or _text(name_node) in _NO_OVERRIDE_CHECK:
            return
        name = _text(name_node)
        sig = self.api.method(self.base, name)
        if sig is None:
            return
        if "v" not in sig[3]:
            if self.target == "3":
                return  # Godot 3 lets a script shadow a non-virtual engine method
            self.error("gd-native-override", name_node, f"{name}() overrides a non-virtual method of "
                       f"{self.base}; the engine would not call it", fix="rename the method")
            return
        declared = [p for p in params.named_children if p.type != "comment"]
        required = sum(1 for p in declared if p.type in ("identifier", "typed_parameter"))
        if required > (sig[2] if sig[2] != -1 else 99) or len(declared) < sig[1]:
            self.error("gd-native-override", name_node, f"{name}() must take {sig[1]} parameter(s) "
                       f"to override the engine's virtual method", fix="match the parent signature")


def api_findings(tree, target: str, base: str | None, defined: set[str], flagged: set[str]) -> list[Finding]:
    """Engine-API findings for one parsed answer (see the module docstring)."""
    checker = TypeChecker(target, base, defined, flagged)
    root = tree.root_node
    for child in root.children:
        name = child.child_by_field_name("name")
        if name is not None:
            {"signal_statement": checker.signals, "function_definition": checker.functions}.get(
                child.type, checker.variables).add(_text(name))
    for child in root.children:
        if child.type == "class_definition":
            _record_inner_class(checker, child)
    for child in root.children:
        if child.type in ("variable_statement", "export_variable_statement", "onready_variable_statement",
                          "const_statement"):
            checker.declare(child, checker.members)
    for child in root.children:
        if child.type == "function_definition":
            checker.locals = {}
            checker.check_override(child)
            checker.check_returns(child)
            params = child.child_by_field_name("parameters")
            for param in params.named_children if params is not None else ():
                if param.type in ("typed_parameter", "typed_default_parameter"):
                    pname = param.children[0]
                    ptype = param.child_by_field_name("type")
                    if ptype is not None:
                        checker.locals[_text(pname)] = checker.type_from_name(_text(ptype).strip())
            _walk(checker, child.child_by_field_name("body"))
    return checker.findings


def _record_inner_class(checker: TypeChecker, cls) -> None:
    """An inner class's constructor arity (Godot 3 checks ``Item.new(...)`` against ``_init``);
    left out when it extends another script class."""
    name = cls.child_by_field_name("name")
    body = next((c for c in cls.children if c.type == "class_body"), None)
    if name is None or body is None:
        return
    arity: tuple[int, int | None] = (0, 0)
    for child in body.children:
        if child.type == "extends_statement":
            base = next((c for c in child.children if c.type == "type"), None)
            if base is None or not checker.api.has_class(_text(base).strip()):
                return
        if child.type == "function_definition" and _text(child.child_by_field_name("name")) == "_init":
            params = child.child_by_field_name("parameters")
            declared = [p for p in params.named_children if p.type != "comment"] if params else []
            if any(p.type == "variadic_parameter" for p in declared):
                return
            required = sum(1 for p in declared if p.type in ("identifier", "typed_parameter"))
            arity = (required, len(declared))
    checker.inner_inits[_text(name)] = arity


_EXPRESSIONS = frozenset({"call", "attribute", "binary_operator"})
# Nothing to check below these (inner classes are left alone: their base is another class).
_LEAVES = frozenset({"class_definition", "string", "integer", "float", "comment", "name", "type",
                     "true", "false", "null"})


def _walk(checker: TypeChecker, body) -> None:
    if body is None:
        return
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in ("variable_statement", "const_statement"):
            checker.declare(node, checker.locals)
        elif node.type in _EXPRESSIONS and node.id not in checker.done:
            checker.infer(node)
        elif node.type == "identifier" and checker.target == "3" and node.parent.type == "arguments":
            name = _text(node)
            if name in checker.functions and name not in checker.variables and name not in checker.locals:
                checker.godot3_value(node, name, "function")
            elif name in checker.signals and name not in checker.variables and name not in checker.locals:
                checker.godot3_value(node, name, "signal")
        elif node.type in _LEAVES:
            continue
        stack.extend(reversed(node.named_children))
