"""Errors and small value helpers shared by every store mixin."""
from __future__ import annotations

import json
import time
from typing import Any

from pipeline.errors import StudioError


class StoreError(StudioError):
    """The database cannot be used (corrupt, locked, not writable); the message says why."""


class NotFoundError(StoreError):
    """A row that was asked for by id or name does not exist."""


class ConflictError(StoreError):
    """Somebody else changed the row since it was read (optimistic concurrency)."""


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def from_json(value: str | None, default: Any = None) -> Any:
    if value in (None, ""):
        return default
    return json.loads(value)
