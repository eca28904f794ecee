"""Store area: training runs, their per-step metrics and checkpoints (issue 11). Filled in by that stage; migrations append to MIGRATIONS."""
from __future__ import annotations

MIGRATIONS: list = []


class TrainMixin:
    pass
