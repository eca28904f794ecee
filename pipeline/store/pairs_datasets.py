"""Frozen datasets: a named, versioned list of pair ids with the filter that chose them, the
prompt template, and a hash of the pairs' text at freeze time (so an export can tell whether
someone edited a frozen pair since)."""
from __future__ import annotations

import hashlib
import json
from typing import Iterable, Iterator

from pipeline.store.base import NotFoundError, StoreError, from_json, to_json

_CHUNK = 900  # stays under SQLite's bound-parameter limit


class DatasetsMixin:
    def create_dataset(self, name: str, pair_ids: list[int], filter: dict, template: str) -> dict:
        """Freeze a selection as the next version of `name`."""
        name = (name or "").strip()
        if not name:
            raise StoreError("a dataset needs a name")
        if not pair_ids:
            raise StoreError(f"dataset {name!r} would be empty: no pair matches the filter")
        content_hash = self.pairs_content_hash(pair_ids)
        with self.tx() as db:
            version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM datasets WHERE name = ?",
                                 [name]).fetchone()[0]
            dataset_id = db["datasets"].insert({
                "name": name, "version": version, "pair_ids": json.dumps(list(map(int, pair_ids))),
                "filter": to_json(filter), "template": template, "content_hash": content_hash,
                "size": len(pair_ids)}).last_pk
        return self.get_dataset_by_id(dataset_id)

    def get_dataset_by_id(self, dataset_id: int) -> dict:
        return _decode(self.row("datasets", dataset_id))

    def get_dataset(self, name: str, version: int | None = None) -> dict:
        """A dataset by name, the latest version unless one is given ('name@3' is accepted too)."""
        if version is None and "@" in name:
            name, _, v = name.rpartition("@")
            if not v.isdigit():
                raise StoreError(f"dataset reference {name}@{v} must end in a version number")
            version = int(v)
        sql, args = "SELECT * FROM datasets WHERE name = ?", [name]
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
            "SELECT id, name, version, size, template, filter, content_hash, created_at "
            "FROM datasets ORDER BY name, version DESC")]

    def pairs_by_ids(self, pair_ids: Iterable[int], columns: str = "id, instruction, input, output, "
                     "language, origin, repo_id, snippet_id, labeller") -> Iterator[dict]:
        """The pairs in the given order, read in chunks (ids that no longer exist are skipped)."""
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
        digest = hashlib.sha256()
        for pair in self.pairs_by_ids(pair_ids, "id, instruction, input, output"):
            digest.update(json.dumps([pair["id"], pair["instruction"], pair["input"], pair["output"]]).encode())
        return digest.hexdigest()


def _decode(row: dict) -> dict:
    row["pair_ids"] = json.loads(row["pair_ids"])
    row["filter"] = from_json(row["filter"], {})
    return row
