"""Store area: judge suites, judged evals and judgments (issue 13). Filled in by that stage; migrations append to MIGRATIONS."""
from __future__ import annotations

MIGRATIONS: list = []


class JudgeMixin:
    pass
