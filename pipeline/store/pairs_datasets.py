"""Frozen datasets: a named, versioned snapshot of pairs with the filter that chose them and the
prompt template.

Frozen means frozen: freezing copies each pair's text into `dataset_examples` (in frozen order),
and export and training read that copy, never the live `pairs` rows, so editing or deleting a
pair after the freeze cannot change what a version trains on. `content_hash` is the sha256 of the
snapshot's text; it lets a dataset frozen before snapshots existed (ids only) be checked against
the live pairs once and snapshotted then, or refused with a clear message if they drifted.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json, inserted_id, to_json
from pipeline.store.conversations import add_snapshot_messages, copy_snapshot_messages

_CHUNK = 900  # stays under SQLite's bound-parameter limit
EXAMPLE_FIELDS = ("pair_id", "instruction", "input", "output")

SNAPSHOT_TABLE = """CREATE TABLE dataset_examples (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,                  -- frozen order
    pair_id INTEGER NOT NULL,                   -- where it came from (the pair may change or go)
    instruction TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    language TEXT,
    PRIMARY KEY (dataset_id, position)
)"""


class DatasetDriftError(StoreError):
    """A dataset frozen as pair ids only no longer matches its recorded content hash."""


def content_hash(rows: Iterable[dict]) -> str:
    """sha256 of the text, in order; the same formula the id-only freezes used, so old hashes verify."""
    digest = hashlib.sha256()
    for r in rows:
        pid = r["pair_id"] if "pair_id" in r else r["id"]
        digest.update(json.dumps([pid, r["instruction"], r["input"], r["output"]]).encode())
    return digest.hexdigest()


def _live_rows(db: Database, pair_ids: list[int]) -> list[dict]:
    """The live pairs' text in the given order (missing ids are skipped), as snapshot rows."""
    out = []
    for start in range(0, len(pair_ids), _CHUNK):
        chunk = pair_ids[start:start + _CHUNK]
        cur = db.execute("SELECT id, instruction, input, output, language FROM pairs "
                         f"WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        by_id = {r[0]: r for r in cur.fetchall()}
        out += [{"pair_id": pid, "instruction": by_id[pid][1] or "", "input": by_id[pid][2] or "",
                 "output": by_id[pid][3] or "", "language": by_id[pid][4]} for pid in chunk if pid in by_id]
    return out


def _insert_snapshot(db: Database, dataset_id: int, rows: list[dict]) -> None:
    db.conn.executemany(
        "INSERT INTO dataset_examples (dataset_id, position, pair_id, instruction, input, output, language) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(dataset_id, i, r["pair_id"], r["instruction"], r["input"], r["output"], r["language"])
         for i, r in enumerate(rows)])


def backfill_snapshots(db: Database) -> None:
    """Migration step: snapshot id-only datasets whose live pairs still hash as frozen. The others
    are left without a snapshot; reading them raises DatasetDriftError with what to do."""
    db.execute(SNAPSHOT_TABLE)
    for ds_id, pair_ids, frozen_hash in db.execute("SELECT id, pair_ids, content_hash FROM datasets").fetchall():
        rows = _live_rows(db, json.loads(pair_ids))
        if frozen_hash and content_hash(rows) == frozen_hash and len(rows) == len(json.loads(pair_ids)):
            _insert_snapshot(db, ds_id, rows)


class DatasetsMixin(StoreBase):
    def create_dataset(self, name: str, pair_ids: list[int], filter: dict, template: str,
                       carve: Callable[[list[dict]], tuple[list | None, dict | None]] | None = None) -> dict:
        """Freeze a selection as the next version of `name`: the pairs' text is copied in the same
        transaction that numbers the version, so a concurrent edit lands either before or after.
        `carve(rows) -> (labels, info)` splits the frozen text into train/test (None = leave the
        row out), see pipeline.pairs.split."""
        from pipeline.paths import check_name

        name = check_name((name or "").strip(), "dataset")
        if not pair_ids:
            raise StoreError(f"dataset {name!r} would be empty: no pair matches the filter")
        with self.tx() as db:
            rows = _live_rows(db, [int(p) for p in pair_ids])
            if not rows:
                raise StoreError(f"dataset {name!r} would be empty: the chosen pairs no longer exist")
            labels, split_info = carve(rows) if carve else (None, None)
            if labels is not None:
                rows = [r for r, label in zip(rows, labels) if label is not None]
                labels = [label for label in labels if label is not None]
            version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM datasets WHERE name = ?",
                                 [name]).fetchone()[0]
            dataset_id = inserted_id(db.table("datasets").insert({
                "name": name, "version": version, "pair_ids": json.dumps([r["pair_id"] for r in rows]),
                "filter": to_json(filter), "template": template, "content_hash": content_hash(rows),
                "size": len(rows)}))
            _insert_snapshot(db, dataset_id, rows)
            copy_snapshot_messages(db, dataset_id)
            if labels is not None:
                self.set_dataset_split(db, dataset_id, [i for i, s in enumerate(labels) if s == "test"],
                                       split_info)
        return self.get_dataset_by_id(dataset_id)

    def dataset_examples(self, dataset_id: int, *, with_language: bool = False,
                         split: str | None = None) -> list[dict]:
        """The frozen examples in frozen order: {pair_id, instruction, input, output} exactly as
        frozen (plus `language` when asked). Reads the snapshot, never the live pairs. `split`
        ("train" or "test") keeps one side of the held-out split; training asks for train only."""
        dataset = self.get_dataset_by_id(int(dataset_id))
        fields = EXAMPLE_FIELDS + (("language",) if with_language else ())
        where = "dataset_id = ?"
        args: list[Any] = [int(dataset_id)]
        if split is not None:
            if split not in ("train", "test"):
                raise StoreError(f"unknown split {split!r}; use train or test")
            where, args = where + " AND split = ?", args + [split]
        cur = self.db.execute(f"SELECT {', '.join(fields)} FROM dataset_examples WHERE {where} "
                              "ORDER BY position", args)
        rows = [dict(zip(fields, r)) for r in cur.fetchall()]
        add_snapshot_messages(self.db, int(dataset_id), rows)
        if rows or not dataset["pair_ids"] or self.db.execute(
                "SELECT 1 FROM dataset_examples WHERE dataset_id = ? LIMIT 1", [int(dataset_id)]).fetchone():
            return rows
        self._snapshot_legacy(dataset)
        return self.dataset_examples(dataset_id, with_language=with_language, split=split)

    def _snapshot_legacy(self, dataset: dict) -> None:
        # An id-only freeze (made before snapshots): its pairs are taken only if they still hash
        # exactly as frozen; anything else would train on text that was never frozen.
        label = f"{dataset['name']}@{dataset['version']}"
        with self.tx() as db:
            if db.execute("SELECT 1 FROM dataset_examples WHERE dataset_id = ? LIMIT 1",
                          [dataset["id"]]).fetchone():
                return  # another reader snapshotted it while we waited for the lock
            rows = _live_rows(db, dataset["pair_ids"])
            if not dataset.get("content_hash"):
                raise DatasetDriftError(
                    f"dataset {label} was frozen as pair ids without a content hash, so its text cannot be "
                    f"verified; freeze it again (python -m pipeline pairs freeze {dataset['name']} …)")
            if len(rows) != len(dataset["pair_ids"]) or content_hash(rows) != dataset["content_hash"]:
                missing = len(dataset["pair_ids"]) - len(rows)
                raise DatasetDriftError(
                    f"dataset {label} was frozen as pair ids only and its pairs changed since "
                    f"({missing} deleted, text edited or not); it cannot be used as frozen — "
                    f"freeze it again to make a new version from the current pairs")
            _insert_snapshot(db, dataset["id"], rows)

    def get_dataset_by_id(self, dataset_id: int) -> dict:
        return _decode(self.row("datasets", dataset_id))

    def get_dataset(self, name: str, version: int | None = None) -> dict:
        """A dataset by name, the latest version unless one is given ('name@3' is accepted too)."""
        if version is None and "@" in name:
            name, _, v = name.rpartition("@")
            if not v.isdigit():
                raise StoreError(f"dataset reference {name}@{v} must end in a version number")
            version = int(v)
        sql = "SELECT * FROM datasets WHERE name = ?"
        args: list[Any] = [name]
        if version is not None:
            sql, args = sql + " AND version = ?", [name, int(version)]
        cur = self.db.execute(sql + " ORDER BY version DESC LIMIT 1", args)
        row = cur.fetchone()
        if row is None:
            known = ", ".join(f"{d['name']}@{d['version']}" for d in self.list_datasets()) or "none"
            what = f"{name}@{version}" if version is not None else name
            raise NotFoundError(f"no dataset {what!r}; frozen datasets: {known}")
        return _decode(dict(zip([d[0] for d in cur.description], row)))

    def list_datasets(self) -> list[dict]:
        return [dict(r, filter=from_json(r["filter"], {})) for r in self.db.query(
            "SELECT id, name, version, size, template, filter, content_hash, created_at, "
            "(SELECT count(*) FROM dataset_examples e WHERE e.dataset_id = datasets.id AND e.split = 'test') "
            "AS test_size FROM datasets ORDER BY name, version DESC")]

    def pairs_by_ids(self, pair_ids: Iterable[int], columns: str = "id, instruction, input, output, "
                     "language, origin, repo_id, snippet_id, labeller") -> Iterator[dict]:
        """The live pairs in the given order, read in chunks (ids that no longer exist are skipped)."""
        ids = list(pair_ids)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            cur = self.db.execute(f"SELECT {columns} FROM pairs WHERE id IN ({','.join('?' * len(chunk))})",
                                  chunk)
            names = [d[0] for d in cur.description]
            by_id = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
            for pid in chunk:
                if pid in by_id:
                    yield by_id[pid]

    def pairs_content_hash(self, pair_ids: list[int]) -> str:
        """Hash of the *live* pairs' text, comparable with a dataset's content_hash."""
        return content_hash(_live_rows(self.db, list(pair_ids)))


def _decode(row: dict) -> dict:
    row["pair_ids"] = json.loads(row["pair_ids"])
    row["filter"] = from_json(row["filter"], {})
    row["split_info"] = from_json(row.get("split_info"), {}) or {}
    return row
