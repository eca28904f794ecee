"""Syntax validity that agrees with a human reviewer (godot-dodo's "syntax" column).

    from evals.validity import check, check_many, validity_rate, syntax_rubric_score
    result = check(answer, "gdscript", target="4")       # or prompt=..., project=...
    result.valid, [str(f) for f in result.findings]
    validity_rate(check_many(answers, "gdscript", prompts=prompts))

CLI: ``python -m evals validity answers.jsonl --language gdscript --target 4``.

Levels (``findings.LEVELS``): parse, dialect, refs, semantic run by default; lint (style,
never affects validity) and compile (a real toolchain per answer, inside the pass@k sandbox,
slow) are opt-in. GDScript uses all levels (see ``gdscript.py``): refs and semantic check the
engine API from generated tables of the whole Godot 3 and 4 API (``api/``, ``engine_api.py``)
through a light type inference (``gdscript_types.py``); compile is godot3-server --check-only
for target 3 (a Godot 4 binary for 4 where one is installed). ``user_refs``: "amend" (default,
scoring model answers: names neither in the answer nor engine API are user-made, stubbed as a
reviewer would) or "strict" (whole files/projects). Python uses parse (== py_compile),
refs (pyflakes undefined names), lint and compile; every other tree-sitter language uses
parse and compile. An answer is valid when no finding has severity "error"; ``result.compiles``
predicts the compiler (Godot 3's analyzer leaves members of untyped values to run time: such
findings have ``when="run"``, invalid for a reviewer but not a compile error).
Results are cached in-process by content hash of (language, target, levels, base, code).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from pipeline.errors import ConfigError

from . import compilers, treesitter
from .findings import DEFAULT_LEVELS, LEVELS, Finding, ValidityResult, sort_findings
from .treesitter import UnknownLanguageError, canonical_language

__all__ = [
    "check", "check_many", "validity_rate", "finding_counts", "syntax_rubric_score",
    "detect_godot_version", "resolve_target", "Finding", "ValidityResult", "LEVELS",
    "DEFAULT_LEVELS", "UnknownLanguageError", "USER_REFS_MODES", "DEFAULT_USER_REFS",
]

DEFAULT_GODOT_TARGET = "4"
USER_REFS_MODES = ("amend", "strict")
DEFAULT_USER_REFS = "amend"  # scoring model answers; files and projects use "strict"
_CACHE: dict[str, ValidityResult] = {}
_CACHE_LIMIT = 200_000


def _normalize_levels(levels) -> tuple[str, ...]:
    if isinstance(levels, str):
        levels = [part.strip() for part in levels.split(",") if part.strip()]
    unknown = set(levels) - set(LEVELS)
    if unknown:
        raise ConfigError(f"unknown level(s) {sorted(unknown)}; choose from {LEVELS}")
    return tuple(level for level in LEVELS if level in levels)


def resolve_target(target=None, prompt: str | None = None, project=None) -> str:
    """Godot target: explicit > mentioned in the prompt > project.godot > Godot 4."""
    if target:
        return "3" if str(target).startswith("3") else "4"
    for source in (prompt, project):
        found = detect_godot_version(source) if source else None
        if found:
            return found
    return DEFAULT_GODOT_TARGET


def check(code: str, language: str = "gdscript", target: str | None = None,
          levels=DEFAULT_LEVELS, *, prompt: str | None = None, project=None,
          base_class: str | None = None, user_refs: str = DEFAULT_USER_REFS) -> ValidityResult:
    """Check one answer. ``target`` only matters for GDScript ("3"/"4"; else taken from
    ``prompt`` or ``project`` — a project.godot path/text — else "4"). ``base_class`` is
    the class a script without ``extends`` should be checked against (default: any).
    ``user_refs`` (GDScript): "amend" scores a model answer the way a reviewer does (names that
    are neither in the answer nor engine API are user-made and stubbed); "strict" is for whole
    files and projects (such names are errors)."""
    language = canonical_language(language)
    levels = _normalize_levels(levels)
    if user_refs not in USER_REFS_MODES:
        raise ConfigError(f"unknown user_refs mode {user_refs!r}; choose from {', '.join(USER_REFS_MODES)}")
    if language == "gdscript":
        target = resolve_target(target, prompt, project)
    else:
        target = None
    key = hashlib.sha256(f"{language}\0{target}\0{levels}\0{base_class}\0{user_refs}\0{code}".encode()).hexdigest()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    result = ValidityResult(language, target, levels,
                            sort_findings(_findings(code, language, target, levels, base_class, user_refs)))
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = result
    return result


def _findings(code, language, target, levels, base_class, user_refs) -> list[Finding]:
    if not code.strip():
        # Compilers accept an empty file, so the verdict stays theirs; the warning lets a
        # rubric or a report tell "said nothing" apart from "said something valid".
        return [Finding("empty-answer", 0, "the answer is empty", severity="warning")]
    if language == "gdscript":
        from .gdscript import check_gdscript

        return check_gdscript(code, target, levels, base_class=base_class, user_refs=user_refs)
    if language == "python":
        from .python_lang import check_python

        return check_python(code, levels)
    findings = treesitter.parse_errors(code, language) if "parse" in levels else []
    if "compile" in levels:
        findings += compilers.compile_check(code, language)
    return findings


def check_many(codes, language: str = "gdscript", target: str | None = None,
               levels=DEFAULT_LEVELS, *, prompts=None, project=None, base_class: str | None = None,
               jobs: int = 4, user_refs: str = DEFAULT_USER_REFS) -> list[ValidityResult]:
    """Check many answers. The compile level runs as one batch (thread pool, javac in one
    JVM) instead of one blocking toolchain call per answer; ``jobs`` sizes that pool.
    GDScript compiles per answer (its target and stubs differ), on the same pool."""
    codes = list(codes)
    prompts = list(prompts) if prompts is not None else [None] * len(codes)
    levels = _normalize_levels(levels)
    if canonical_language(language) == "gdscript" and "compile" in levels:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(lambda cp: check(cp[0], language, target, levels, prompt=cp[1],
                                                  project=project, base_class=base_class,
                                                  user_refs=user_refs), zip(codes, prompts)))
    in_process = tuple(level for level in levels if level != "compile")
    results = [check(c, language, target, in_process, prompt=p, project=project,
                     base_class=base_class, user_refs=user_refs) for c, p in zip(codes, prompts)]
    if "compile" not in levels:
        return results
    compiled = compilers.compile_many(codes, canonical_language(language), jobs=jobs)
    return [ValidityResult(r.language, r.target, levels, sort_findings(r.findings + tuple(extra)))
            for r, extra in zip(results, compiled)]


def validity_rate(results) -> float:
    """Fraction of valid results (0.0 for an empty list): the per-model syntax score."""
    results = list(results)
    return sum(r.valid for r in results) / len(results) if results else 0.0


def finding_counts(results, errors_only: bool = True) -> dict[str, int]:
    """How many results have at least one finding of each rule id, most common first."""
    counts: dict[str, int] = {}
    for result in results:
        rules = {f.rule_id for f in result.findings if f.severity == "error" or not errors_only}
        for rule in rules:
            counts[rule] = counts.get(rule, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def syntax_rubric_score(result: ValidityResult, scale: int = 1) -> int:
    """The godot-dodo rubric's "syntax" column for one answer: ``scale`` when the answer
    would compile and run in the target version, else 0. Binary on purpose: the human
    column is pass/fail per answer (a model's total is e.g. 45/50), so partial credit for
    "fewer errors" would not be comparable. Use scale=10 for a 0-10 rubric."""
    return scale if result.valid else 0


_PROJECT_CONFIG = re.compile(r"^\s*config_version\s*=\s*(\d+)", re.M)
_PROJECT_FEATURES = re.compile(r"config/features\s*=\s*(?:Packed|Pool)StringArray\(\s*\"(\d+)")
_TARGETED = re.compile(r"\b(?:to|for|in|into|using|with|targeting|on)\s+(?:the\s+)?Godot"
                       r"(?:\s+Engine)?\s*v?(\d+)(?:\.\d+)*", re.I)
_MENTION = re.compile(r"\bGodot(?:\s+Engine)?\s*v?(\d+)(?:\.\d+)*", re.I)
_GDSCRIPT2 = re.compile(r"\bGDScript\s*2(?:\.0)?\b", re.I)


def detect_godot_version(text_or_project_godot) -> str | None:
    """"3", "4" or None from a prompt, project.godot text, or a path to project.godot (or
    to the folder holding it). project.godot: config_version=5 is Godot 4, 4 is Godot 3.
    Prose: "for/in/to Godot 4" wins over a bare mention ("port this Godot 3 code to Godot 4"
    is 4); otherwise the last "Godot N" mentioned."""
    text = _read_if_path(text_or_project_godot)
    if not text:
        return None
    match = _PROJECT_CONFIG.search(text)
    if match:
        return "4" if int(match.group(1)) >= 5 else "3"
    match = _PROJECT_FEATURES.search(text)
    if match:
        return _major(match.group(1))
    targeted = _TARGETED.findall(text)
    if targeted:
        return _major(targeted[-1])
    mentions = _MENTION.findall(text)
    if mentions:
        return _major(mentions[-1])
    return "4" if _GDSCRIPT2.search(text) else None


def _major(number: str) -> str:
    return "4" if int(number) >= 4 else "3"


def _read_if_path(source) -> str:
    """The text itself, or the contents of project.godot when given its path or folder."""
    if source is None:
        return ""
    looks_like_path = isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source
        and (source.endswith("project.godot") or os.path.isdir(source)))
    if not looks_like_path:
        return str(source)
    path = Path(source)
    if path.is_dir():
        path = path / "project.godot"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
