"""Godot engine names (classes, global functions/constants, class members) for Godot 4 and 3.

The hand-written ``godot_api.txt`` (format described at its top: foreign names, constant
prefixes, static members) is merged with the engine's own generated tables (``api/``, every
class with its members; see ``engine_api``); parsed once per version into a ``GodotApi``.
What it cannot know, by construction:

* anything project-specific: autoload singletons, ``class_name`` scripts elsewhere in the
  project, input actions, node names in the scene, members of scripts loaded by path;
* the type of an arbitrary expression, so ``obj.method()`` on anything but a built-in value
  type name (``Vector2.ZERO``) is never checked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("godot_api.txt")
_HEADER = re.compile(r"^\[(\w+)(?:\s+(\d))?(?:\s+(\w+))?(?:\s*:\s*(\w+))?\]$")


_MEMBERS_CACHE: dict[tuple[str, str], tuple] = {}  # the tables never change in a process


@dataclass(frozen=True)
class GodotApi:
    version: str
    classes: frozenset[str]
    functions: frozenset[str]
    constants: frozenset[str]
    constant_prefixes: tuple[str, ...]
    parents: dict[str, str | None] = field(default_factory=dict)
    own_members: dict[str, frozenset[str]] = field(default_factory=dict)
    own_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    statics: dict[str, frozenset[str]] = field(default_factory=dict)
    foreign: dict[str, str] = field(default_factory=dict)
    all_members: frozenset[str] = frozenset()

    def is_global(self, name: str) -> bool:
        return (name in self.classes or name in self.functions or name in self.constants
                or name.startswith(self.constant_prefixes))

    def members_of(self, cls: str) -> tuple[frozenset[str], tuple[str, ...], bool]:
        """Members visible on ``cls`` through its chain, their constant prefixes, and
        whether every class in the chain has an entry (so a miss is a real miss)."""
        key = (self.version, cls)
        if key not in _MEMBERS_CACHE:
            _MEMBERS_CACHE[key] = self._members_of(cls)
        return _MEMBERS_CACHE[key]

    def _members_of(self, cls: str) -> tuple[frozenset[str], tuple[str, ...], bool]:
        names: set[str] = set()
        prefixes: list[str] = []
        complete = True
        seen = set()
        current: str | None = cls
        while current and current not in seen:
            seen.add(current)
            if current not in self.own_members:
                complete = False
                break
            names |= self.own_members[current]
            prefixes += self.own_prefixes[current]
            current = self.parents.get(current)
        return frozenset(names), tuple(prefixes), complete


def _expand(tokens: list[str]) -> tuple[set[str], list[str]]:
    names, prefixes = set(), []
    for tok in tokens:
        if tok.endswith("*"):
            prefixes.append(tok[:-1])
            continue
        names.add(tok)
        if not tok.startswith("_") and not tok.isupper():
            # Properties come with generated accessors; methods get harmless extras.
            names.update((f"set_{tok}", f"get_{tok}", f"is_{tok}"))
    return names, prefixes


@cache
def _sections() -> list[tuple[tuple, list[str], list[str]]]:
    """[(header groups, tokens, lines)] in file order."""
    sections: list[tuple[tuple, list[str], list[str]]] = []
    for raw in DATA_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _HEADER.match(line)
        if match:
            sections.append((match.groups(), [], []))
        elif sections:
            sections[-1][1].extend(line.split())
            sections[-1][2].append(line)
    return sections


def _merge_generated(version, classes, funcs, const_names, parents, own, own_prefixes) -> None:
    """Add the engine's own tables (``api/godot{3,4}.json``, see engine_api): every class with
    its complete member list (for Godot 3 it replaces the hand-written entry). Godot 3 signals are not identifiers, so they are left out there."""
    from .engine_api import engine_api

    api = engine_api(version)
    classes.update(api.classes)
    classes.update(api.singletons)
    funcs.update(api.functions)
    const_names.update(api.constants)
    for name, entry in api.classes.items():
        tokens = list(entry["m"]) + list(entry["p"]) + entry["c"] + entry["e"]
        if version == "4":
            tokens += entry["s"]
        names, _ = _expand(tokens)
        # Godot 3's generated table is the engine's own complete dump: the hand-written Godot 3
        # entries copy Godot 4 ones ("=4") and would let Godot 4 members (process_mode) through.
        own[name] = frozenset(names) if version == "3" else frozenset(names) | own.get(name, frozenset())
        own_prefixes.setdefault(name, ())
        if entry.get("base") or name not in parents:
            parents[name] = entry.get("base")


@cache
def load_api(version: str = "4") -> GodotApi:
    version = "3" if str(version).startswith("3") else "4"
    words: dict[tuple, list[str]] = {}
    class_entries: dict[tuple[str, str], tuple[str | None, list[str]]] = {}
    statics: dict[str, frozenset[str]] = {}
    foreign: dict[str, str] = {}
    for (kind, ver, name, parent), tokens, lines in _sections():
        if kind == "foreign":
            foreign.update((name, why) for name, why in (line.split(None, 1) for line in lines))
        elif kind == "class":
            class_entries[(ver, name)] = (parent, tokens)
        elif kind == "static":
            if ver == version:
                statics[name] = frozenset(tokens)
        else:
            words[(kind, ver)] = tokens
    classes4 = set(words[("classes", "4")])
    if version == "4":
        classes = classes4
    else:
        classes = (classes4 - set(words[("new_in_4", None)])) | set(words[("classes", "3")])
    funcs = set(words[("functions", version)])
    const_names, const_prefixes = set(), []
    for tok in words[("constants", version)]:
        (const_prefixes.append(tok[:-1]) if tok.endswith("*") else const_names.add(tok))

    parents, own, own_prefixes = {}, {}, {}
    for (ver, name), (parent, tokens) in class_entries.items():
        if ver != version:
            continue
        if tokens and tokens[0].startswith("=4"):
            source = tokens[0].partition(":")[2] or name
            base = list(class_entries[("4", source)][1])
            for edit in tokens[1:]:
                if edit.startswith("-"):
                    base = [t for t in base if t != edit[1:]]
                else:
                    base.append(edit.lstrip("+"))
            tokens = base
        names, prefixes = _expand(tokens)
        parents[name], own[name], own_prefixes[name] = parent, frozenset(names), tuple(prefixes)
        classes.add(name)
    common = set(own)  # the hand-listed common bases: what an answer without extends may use
    _merge_generated(version, classes, funcs, const_names, parents, own, own_prefixes)
    # Not every member of all 1,000 engine classes: "factor" or "speed" would then resolve.
    union = frozenset().union(*(own[name] for name in common))
    return GodotApi(version, frozenset(classes), frozenset(funcs), frozenset(const_names),
                    tuple(const_prefixes), parents, own, own_prefixes, statics, foreign, union)
