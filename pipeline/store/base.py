"""Errors, small value helpers and the interface shared by every store mixin."""
from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import sqlite_utils

from pipeline.errors import StudioError


class StoreError(StudioError):
    """The database cannot be used (corrupt, locked, not writable); the message says why."""


class NotFoundError(StoreError):
    """A row that was asked for by id or name does not exist."""


class ConflictError(StoreError):
    """Somebody else changed the row since it was read (optimistic concurrency)."""


def inserted_id(table: sqlite_utils.db.Table) -> int:
    """The integer primary key of the row `table` inserted last (sqlite-utils types it as optional)."""
    if table.last_pk is None:
        raise StoreError(f"the insert into {table.name} reported no row id")
    return int(table.last_pk)


class StoreBase:
    """What every mixin may use of the store it is part of; `pipeline.store.Store` provides it.

    Declared here so each mixin type-checks on its own, including its calls into other areas.
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

    if TYPE_CHECKING:  # other areas' methods that some mixins call; each is defined in its own mixin
        def get_pair(self, pair_id: int) -> dict: ...
        def set_chat_owner(self, chat_id: int, session: str) -> None: ...
        def get_chat(self, chat_id: int) -> dict: ...
        def get_message(self, message_id: int) -> dict: ...
        def get_model(self, name: str) -> dict: ...
        def get_dataset_by_id(self, dataset_id: int) -> dict: ...
        def insert_imported_pairs(self, rows: list[dict]) -> tuple[int, int]: ...
        def set_dataset_split(self, db: sqlite_utils.Database, dataset_id: int, test_positions: list[int],
                              info: dict | None) -> None: ...

    def _dicts(self, sql: str, args: list) -> list[dict]:
        """The rows of a query as dicts keyed by column name."""
        cur = self.db.execute(sql, args)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def from_json(value: str | None, default: Any = None) -> Any:
    if value in (None, ""):
        return default
    return json.loads(value)
