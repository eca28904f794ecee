"""Godot 3 <-> 4 dialect rules: load the table in ``gdscript_rules.tsv`` and apply it.

Rules are data. Each row names what is wrong in which target version and how to fix it;
this module only knows the six match kinds. Matching runs on a *masked* copy of the code
(string contents blanked, comments removed, line structure kept), so ``"export var"`` in a
string or ``# yield(...)`` in a comment never fires. Identifier-like rules (name, call,
member) are skipped when the answer itself defines that identifier (a user ``func update``
is not CanvasItem.update). Line-anchored regexes skip continuation lines. Under Godot 3 a
renamed method or property after a dot is a "run" finding (its analyzer does not type the
receiver), see ``findings``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .findings import Finding

RULES_FILE = Path(__file__).with_name("gdscript_rules.tsv")
_WORD = re.compile(r"[A-Za-z_]\w*")

_STRING_OR_COMMENT = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|#[^\n]*')

# How each identifier-like kind is matched; {names} is an alternation of escaped names.
_KIND_PATTERNS = {
    "name": r"(?<![\w.$%/@])(?P<n>{names})\b",
    "call": r"(?<![\w.$%/@])(?:self\.)?(?P<n>{names})[ \t]*\(",
    "method": r"\.[ \t]*(?P<n>{names})[ \t]*\(",
    "member": r"(?<![\w$%/@])(?P<n>{names})\b(?![ \t]*\()",
}
_REVERSE_MESSAGES = {
    "name": "{new} does not exist in Godot 3 (the Godot 3 name is {old})",
    "call": "{new}() does not exist in Godot 3 (the Godot 3 name is {old}())",
    "method": ".{new}() does not exist in Godot 3 (the Godot 3 name is .{old}())",
    "member": "{new} does not exist in Godot 3 (the Godot 3 name is {old})",
}
_FORWARD_MESSAGES = {
    "name": "{old} was renamed to {new} in Godot 4",
    "call": "{old}() was renamed to {new}() in Godot 4",
    "method": ".{old}() was renamed to .{new}() in Godot 4",
    "member": "{old} was renamed to {new} in Godot 4",
}


@dataclass(frozen=True)
class DialectRule:
    rule_id: str
    kind: str
    invalid_in: str  # "3" or "4" after expanding "34" rows
    old: str  # the thing that is wrong in ``invalid_in``
    fix: str
    message: str


@dataclass(frozen=True)
class MaskedCode:
    text: str
    line_starts: tuple[int, ...]
    continuation_lines: frozenset[int]  # 1-based lines that continue a previous statement

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)


def _blank(match: re.Match) -> str:
    token = match.group(0)
    if token.startswith("#"):
        return ""
    quote = 3 if token[:3] in ('"""', "'''") else 1
    inner = token[quote:-quote]
    return token[:quote] + re.sub(r"[^\n]", " ", inner) + token[-quote:]


def mask_code(code: str) -> MaskedCode:
    """Blank string contents and drop comments, keeping every line where it was."""
    text = _STRING_OR_COMMENT.sub(_blank, code)
    lines = text.split("\n")
    starts, offset = [], 0
    continuation, depth, backslash = set(), 0, False
    for number, line in enumerate(lines, 1):
        starts.append(offset)
        offset += len(line) + 1
        if depth > 0 or backslash:
            continuation.add(number)
        depth = max(0, depth + sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}"))
        backslash = line.rstrip().endswith("\\")
    return MaskedCode(text, tuple(starts), frozenset(continuation))


@cache
def load_rules() -> tuple[DialectRule, ...]:
    rules = []
    for raw in RULES_FILE.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#") or raw.startswith("rule_id\t"):
            continue
        rule_id, kind, invalid_in, old, new, message = (raw.split("\t") + [""] * 6)[:6]
        if kind == "regex":
            rules.append(DialectRule(rule_id, kind, invalid_in, old, new, message))
            continue
        if "4" in invalid_in:
            text = (message or _FORWARD_MESSAGES[kind]).format(old=old, new=new)
            rules.append(DialectRule(rule_id, kind, "4", old, new, text))
        if "3" in invalid_in:
            text = _REVERSE_MESSAGES[kind].format(old=old, new=new)
            rules.append(DialectRule(rule_id, kind, "3", new, old, text))
    return tuple(rules)


@cache
def _compiled(target: str):
    """Per target: [(regex, rule, anchored)] plus one alternation per identifier kind."""
    regexes: list = []
    by_kind: dict[str, dict[str, Any]] = {}  # kind -> identifier -> its rule
    for rule in load_rules():
        if rule.invalid_in != target:
            continue
        if rule.kind == "regex":
            regexes.append((re.compile(rule.old, re.MULTILINE), rule, rule.old.startswith("^")))
        else:
            by_kind.setdefault(rule.kind, {}).setdefault(rule.old, rule)
    combined = []
    for kind, table in by_kind.items():
        names = "|".join(re.escape(n) for n in sorted(table, key=len, reverse=True))
        combined.append((re.compile(_KIND_PATTERNS[kind].format(names=names)), table))
    return regexes, combined


def apply_rules(masked: MaskedCode, target: str, defined: frozenset[str] | set[str] = frozenset(),
                flagged: set[str] | None = None) -> list[Finding]:
    """Dialect findings for ``target`` ("3" or "4") on already-masked code. Identifiers a
    rule matched are added to ``flagged`` when given, so other levels need not repeat them."""
    regexes, combined = _compiled("3" if str(target).startswith("3") else "4")
    text = masked.text
    findings = []
    for regex, rule, anchored in regexes:
        for match in regex.finditer(text):
            line = masked.line_of(match.start())
            if anchored and line in masked.continuation_lines:
                continue
            if flagged is not None:
                flagged.update(_WORD.findall(match.group(0)))
            findings.append(Finding(rule.rule_id, line, rule.message, fix=rule.fix or None,
                                    severity="error", level="dialect"))
    for regex, table in combined:
        for match in regex.finditer(text):
            name = match.group("n")
            if name in defined:
                continue
            rule = table[name]
            if flagged is not None:
                flagged.add(name)
            findings.append(Finding(rule.rule_id, masked.line_of(match.start()), rule.message,
                                    fix=f"use {rule.fix}", severity="error", level="dialect",
                                    when=_when(rule, text, match.start(), target)))
    return findings


def _when(rule: DialectRule, text: str, start: int, target: str) -> str:
    """Godot 3 checks no member of an untyped receiver: a renamed method or property after a
    dot (``scene.instantiate()``) fails only when it runs."""
    if not str(target).startswith("3") or rule.kind not in ("method", "member"):
        return "compile"
    return "run" if text[:start].rstrip(" \t").endswith(".") or rule.kind == "method" else "compile"


@cache
def _class_renames() -> dict[tuple[str, str], str]:
    """(name, target) -> the same class's name in ``target``, from the renamed-class rows."""
    table = {}
    for rule in load_rules():
        if rule.kind == "name" and rule.rule_id == "renamed-class":
            other = "3" if rule.invalid_in == "4" else "4"
            table[(rule.old, rule.invalid_in)] = rule.fix
            table.setdefault((rule.fix, other), rule.fix)
    return table


def counterpart_class(name: str, target: str) -> str | None:
    """The class ``name`` became (or was) in ``target``: KinematicBody2D -> CharacterBody2D
    for "4", CharacterBody2D -> KinematicBody2D for "3"."""
    return _class_renames().get((name, str(target)))


_TO_GODOT4_SYNTAX = [
    (re.compile(r"^([ \t]*)onready([ \t]+var\b)", re.M), r"\1@onready\2"),
    (re.compile(r"^([ \t]*)export\b[ \t]*(?:\([^)\n]*\))?[ \t]*(?:onready[ \t]+)?(var\b)", re.M), r"\1@export \2"),
    (re.compile(r"^([ \t]*)tool[ \t]*$", re.M), r"\1@tool"),
    (re.compile(r"^([ \t]*)(?:remote|master|puppet|remotesync|mastersync|puppetsync|sync|slave)"
                r"([ \t]+(?:func|var)\b)", re.M), r"\1@rpc\2"),
    (re.compile(r"(?<![\w.])setget\b[^\n]*"), ""),
    (re.compile(r"(\bfunc[ \t]+_init[ \t]*\([^)\n]*\))[ \t]*\.[ \t]*\([^)\n]*\)"), r"\1"),
    (re.compile(r"^([ \t]*)\.([ \t]*[A-Za-z_]\w*[ \t]*\()", re.M), r"\1super.\2"),
]


def godot3_keywords_as_godot4(masked_text: str) -> str:
    """Rewrite Godot 3 keyword syntax into its Godot 4 spelling, line for line, so the
    Godot 4 grammar can judge the rest of a Godot 3 script (or of Godot 3 idioms)."""
    for regex, replacement in _TO_GODOT4_SYNTAX:
        masked_text = regex.sub(replacement, masked_text)
    return masked_text
