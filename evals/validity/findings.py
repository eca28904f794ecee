"""The two records every validity checker returns: a Finding and a ValidityResult.

A Finding is one problem (rule id, line, message, suggested fix, severity, the level
that found it). A ValidityResult is one answer's verdict: ``valid`` is True when no
finding has severity ``error``; warnings and infos never make an answer invalid.
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
