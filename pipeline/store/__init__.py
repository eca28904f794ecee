"""The store: one SQLite file, the only place in the project that writes SQL.

    from pipeline.store import open_store
    store = open_store()              # $STUDIO_HOME/studio.db, migrated on open
    store.create_job("prepare_model", {...})

The Store class is composed of one mixin per area (jobs, models, …) so each file stays small;
every mixin uses `self.db` (a sqlite-utils Database) and `self.tx()` (an IMMEDIATE transaction).
Connections are per thread: Gradio runs callbacks on worker threads and job processes open their
own, and SQLite in WAL mode with a busy timeout lets them all write without losing updates.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.store import (
    arena,
    chat,
    conversations,
    curate,
    evals,
    jobs,
    judge,
    labels,
    lineage,
    owncode,
    pairs,
    provenance,
    schema,
    train,
    votes_exchange,
)
from pipeline.store.base import (  # noqa: F401  (re-exported)
    ConflictError,
    NotFoundError,
    StoreError,
    from_json,
    now_iso,
    to_json,
)
from pipeline.store.jobs import JobsMixin
from pipeline.store.models import ModelsMixin

# Core schema first, then each area's own steps; a step is applied once, recorded by name.
MIGRATIONS = (schema.MIGRATIONS + curate.MIGRATIONS + labels.MIGRATIONS + pairs.MIGRATIONS
              + evals.MIGRATIONS + train.MIGRATIONS + chat.MIGRATIONS + judge.MIGRATIONS
              + jobs.MIGRATIONS + lineage.MIGRATIONS + provenance.MIGRATIONS + owncode.MIGRATIONS
              + arena.MIGRATIONS + conversations.MIGRATIONS + votes_exchange.MIGRATIONS)

BUSY_TIMEOUT_MS = 30_000


def _locked(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """'database is locked' after the busy timeout, said so a person knows what to do."""
    if "locked" not in str(exc) and "busy" not in str(exc):
        return exc
    return StoreError(f"{path} stayed locked by another writer for {BUSY_TIMEOUT_MS // 1000} s "
                      "(a long job or another studio on the same data dir); nothing was written, "
                      "try again in a moment")


class Store(JobsMixin, ModelsMixin, curate.CurateMixin, labels.LabelsMixin, pairs.PairsMixin,
            evals.EvalsMixin, train.TrainMixin, chat.ChatMixin, judge.JudgeMixin, lineage.LineageMixin,
            provenance.ProvenanceMixin, owncode.OwnCodeMixin, arena.ArenaMixin,
            conversations.ConversationsMixin, votes_exchange.VotesExchangeMixin):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a usable SQLite database ({exc}). It was left untouched; "
                "move it aside or point STUDIO_HOME at another folder."
            ) from exc
        except PermissionError as exc:
            raise StoreError(f"{self.path} cannot be written ({exc.strerror}).") from exc

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> sqlite_utils.Database:
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return sqlite_utils.Database(conn)

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    @contextmanager
    def tx(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes the lock up front, so read-modify-write is atomic."""
        from pipeline import access

        # Every write of the studio's data asks the gate (once per door's call): a door or a new
        # operation that forgot to ask cannot write as a visitor. The studio's own upkeep
        # (migrations, settling dead jobs) runs under access.housekeeping().
        access.require_write(f"write to {self.path.name}")
        db = self.db
        if db.conn.in_transaction:  # nested: join the outer one
            yield db
            return
        try:
            db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _locked(self.path, exc) from None
        try:
            yield db
        except sqlite3.OperationalError as exc:
            db.conn.execute("ROLLBACK")
            raise _locked(self.path, exc) from None
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")

    # -- migrations -------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied now."""
        from pipeline import access

        db = self.db
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {r[0] for r in db.execute("SELECT name FROM _migrations").fetchall()}
        applied = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with access.housekeeping(), self.tx():   # upgrading the file is nobody's write
                if name in {r[0] for r in db.execute("SELECT name FROM _migrations")}:
                    continue  # another process migrated while we waited for the lock
                if callable(step):
                    step(db)
                else:
                    for statement in _split_sql(step):
                        db.execute(statement)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", [name, now_iso()])
            applied.append(name)
        return applied

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM _migrations ORDER BY name")]

    # -- small shared helpers ---------------------------------------------------------------
    def row(self, table: str, pk: int) -> dict:
        try:
            return self.db.table(table).get(pk)
        except sqlite_utils.db.NotFoundError:
            raise NotFoundError(f"{table} {pk} not found") from None

    def count(self, table: str, where: str | None = None, params: Any = None) -> int:
        return self.db[table].count_where(where, params) if where else self.db[table].count


def _split_sql(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; split plain statements ourselves instead.
    lines = [ln.split("--")[0] for ln in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def open_store(path: str | Path | None = None) -> Store:
    """The process-wide Store for a db file (default $STUDIO_HOME/studio.db)."""
    from pipeline.paths import db_path, ensure_home

    if path is None:
        ensure_home()
        path = db_path()
    path = Path(path).absolute()
    with _stores_lock:
        if path not in _stores:
            _stores[path] = Store(path)
        return _stores[path]
