"""Errors, small value helpers and the interface shared by every store mixin."""
from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import Any

import sqlite_utils

from pipeline.errors import StudioError


class StoreError(StudioError):
    """The database cannot be used (corrupt, locked, not writable); the message says why."""


class NotFoundError(StoreError):
    """A row that was asked for by id or name does not exist."""


class ConflictError(StoreError):
    """Somebody else changed the row since it was read (optimistic concurrency)."""


class StoreBase:
    """What every mixin may use of the store it is part of; `pipeline.store.Store` provides it.

    Declared here so each mixin type-checks on its own. A mixin that also calls another area's
    methods annotates those methods' `self` as `Store`.
    """

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        raise NotImplementedError

    def tx(self) -> AbstractContextManager[sqlite_utils.Database]:
        """A write transaction that takes the lock up front."""
        raise NotImplementedError

    def row(self, table: str, pk: int) -> dict:
        """One row by primary key, or NotFoundError."""
        raise NotImplementedError

    def count(self, table: str, where: str | None = None, params: Any = None) -> int:
        """Rows of `table` (matching `where`)."""
        raise NotImplementedError


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def from_json(value: str | None, default: Any = None) -> Any:
    if value in (None, ""):
        return default
    return json.loads(value)
