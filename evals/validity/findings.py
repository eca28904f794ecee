"""The two records every validity checker returns: a Finding and a ValidityResult.

A Finding is one problem (rule id, line, message, suggested fix, severity, the level
that found it, and when the engine reports it). A ValidityResult is one answer's verdict:
``valid`` is True when no finding has severity ``error``; warnings and infos never make an
answer invalid. ``when`` is "compile" (the engine's analyzer rejects the script, so
``--check-only`` fails) or "run" (the script loads, the line fails when it runs: Godot 3's
analyzer does not check members of untyped values or unknown members of engine objects).
``compiles`` is the static levels' prediction of the compiler's verdict; ``valid`` (what a
reviewer scores: would it compile *and* run) counts both.
Both are frozen so cached results can be shared between callers safely.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")
LEVELS = ("parse", "dialect", "refs", "semantic", "lint", "compile")
DEFAULT_LEVELS = ("parse", "dialect", "refs", "semantic")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    line: int  # 1-based; 0 when the tool gave no position
    message: str
    fix: str | None = None
    severity: str = "error"
    level: str = "parse"
    when: str = "compile"  # "compile" or "run" (see the module docstring)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        fix = f"  (fix: {self.fix})" if self.fix else ""
        return f"{self.line}: {self.severity} [{self.rule_id}] {self.message}{fix}"


@dataclass(frozen=True)
class ValidityResult:
    language: str
    target: str | None
    levels: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def compiles(self) -> bool:
        """The static levels' prediction of ``--check-only``: no error the analyzer reports."""
        return not any(f.severity == "error" and f.when == "compile" for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "target": self.target,
            "levels": list(self.levels),
            "valid": self.valid,
            "findings": [f.to_dict() for f in self.findings],
        }


def sort_findings(findings) -> tuple[Finding, ...]:
    """Order by line, then errors first, dropping exact duplicates."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    unique = dict.fromkeys(findings)
    return tuple(sorted(unique, key=lambda f: (f.line, rank.get(f.severity, 9), f.rule_id)))
