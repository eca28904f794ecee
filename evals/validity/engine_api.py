"""The whole Godot engine API per major version, read from the generated tables in ``api/``.

``api/godot3.json`` comes from godot3-server 3.2.3's own ``--doctool`` dump and
``api/godot4.json`` from the Godot 4 class reference (see ``api/generate.py`` for sources,
versions and licenses). Nothing is downloaded; each table is parsed once per process.

    api = engine_api("4")
    api.method("CharacterBody2D", "move_and_slide")   # ("void", 0, 0, "") found via the base chain
    api.member_kind("Node2D", "position")              # "property"

What it cannot know: a script attached to an engine object at run time (a parameter typed
``Node2D`` may hold a user script with more methods, so only exact types are closed), project
classes and autoloads. Godot 3's reference lists no operators, so both versions use Godot 4's
operator table for the built-in value types (their arithmetic did not change).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

API_DIR = Path(__file__).with_name("api")
# Value types: no script can extend them, so a member they lack is always an error.
BUILTIN_TYPES = frozenset({
    "bool", "int", "float", "String", "StringName", "NodePath", "Vector2", "Vector2i", "Vector3",
    "Vector3i", "Vector4", "Vector4i", "Rect2", "Rect2i", "Transform2D", "Transform3D", "Transform",
    "Plane", "Quaternion", "Quat", "AABB", "Basis", "Projection", "Color", "RID", "Callable", "Signal",
    "Dictionary", "Array", "PackedByteArray", "PackedInt32Array", "PackedInt64Array",
    "PackedFloat32Array", "PackedFloat64Array", "PackedStringArray", "PackedVector2Array",
    "PackedVector3Array", "PackedColorArray", "PackedVector4Array", "PoolByteArray", "PoolIntArray",
    "PoolRealArray", "PoolStringArray", "PoolVector2Array", "PoolVector3Array", "PoolColorArray"})
# Engine objects a script may extend: an object typed as one of these might carry user
# methods, so a member the engine class lacks is not a certain error.
_SCRIPTABLE_ROOTS = ("Node", "Resource")
_OPEN_CLASSES = frozenset({"Object", "RefCounted", "Reference", "Resource", "Node", "Variant"})


@dataclass(frozen=True)
class EngineApi:
    version: str
    source: str
    classes: dict
    functions: dict
    constants: frozenset
    singletons: dict
    operators: dict  # builtin type -> {(op, right type): result}

    def has_class(self, name: str) -> bool:
        return name in self.classes

    def chain(self, cls: str):
        seen = set()
        while cls and cls in self.classes and cls not in seen:
            seen.add(cls)
            yield cls, self.classes[cls]
            cls = self.classes[cls].get("base")

    def method(self, cls: str, name: str):
        """(return type, min args, max args or -1, flags) of ``cls.name()`` through its bases."""
        for _, entry in self.chain(cls):
            found = entry["m"].get(name)
            if found is not None:
                return found
        return None

    def member_kind(self, cls: str, name: str) -> str | None:
        for _, entry in self.chain(cls):
            if name in entry["m"]:
                return "method"
            if name in entry["p"]:
                return "property"
            if name in entry["s"]:
                return "signal"
            if name in entry["c"] or name in entry["e"]:
                return "constant"
        if _accessor_of(self, cls, name):
            return "method"
        return None

    def property_type(self, cls: str, name: str) -> str | None:
        for _, entry in self.chain(cls):
            if name in entry["p"]:
                return entry["p"][name]
        return None

    def inherits(self, cls: str, base: str) -> bool:
        return any(name == base for name, _ in self.chain(cls))

    def is_scriptable(self, cls: str) -> bool:
        """Could an object of this engine class carry a user script (so more members)?"""
        return cls in _OPEN_CLASSES or any(self.inherits(cls, root) for root in _SCRIPTABLE_ROOTS)

    def operator_result(self, left: str, op: str, right: str) -> str | bool | None:
        """Result type; None when the table has the types but not the operator (an error);
        True when unknown (a type without an operator table)."""
        table = self.operators.get(left)
        if table is None or right not in self.operators:
            return True
        return table.get((op, right)) or table.get((op, "Variant"))


def _accessor_of(api: EngineApi, cls: str, name: str) -> bool:
    """Godot exposes property accessors as methods (set_position/get_position/is_visible)."""
    for prefix in ("set_", "get_", "is_"):
        if name.startswith(prefix):
            prop = name[len(prefix):]
            if any(prop in entry["p"] for _, entry in api.chain(cls)):
                return True
    return False


@cache
def _table(version: str) -> dict:
    return json.loads((API_DIR / f"godot{version}.json").read_text(encoding="utf-8"))


@cache
def engine_api(version: str = "4") -> EngineApi:
    version = "3" if str(version).startswith("3") else "4"
    table = _table(version)
    classes = table["classes"]
    operators = {}
    for name, entry in _table("4")["classes"].items():
        if entry["o"] and name in classes:
            operators[name] = {(op, right): result for op, right, result in entry["o"]}
    return EngineApi(version, table["source"], classes, table["functions"],
                     frozenset(table["constants"]), table["singletons"], operators)
