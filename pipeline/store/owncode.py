"""Store area: the held-out test split of frozen datasets and the own-code evals over it (issue 24).

A frozen example is in the `train` or `test` split (`dataset_examples.split`); how the split was
carved (grouping, fraction, seed, near-duplicates dropped) is `datasets.split_info`. An own-code
eval is one model answering every test item of one dataset version; each item keeps the prompt,
the raw reply, the code taken from it and its scores, so a verdict traces back to the text.
"""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json, inserted_id, now_iso, to_json

SPLITS = ("train", "test")
OWNCODE_STATUSES = ("running", "done", "failed")
ITEM_SCORES = ("chrf", "exact", "valid", "loss", "doctest")

_TABLES = """
CREATE TABLE owncode_evals (
    id INTEGER PRIMARY KEY,
    name TEXT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    dataset TEXT NOT NULL,                       -- name@version, as frozen
    model TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',           -- JSON: OwnCodeConfig + engine
    status TEXT NOT NULL DEFAULT 'running',
    job_id INTEGER REFERENCES jobs(id),
    metrics TEXT,                                -- JSON: means of every score
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT
);
CREATE TABLE owncode_items (
    eval_id INTEGER NOT NULL REFERENCES owncode_evals(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,                   -- the example's frozen position
    pair_id INTEGER NOT NULL,
    language TEXT,
    instruction TEXT NOT NULL,
    reference TEXT NOT NULL,                     -- the human-written code
    prompt TEXT,                                 -- JSON chat messages sent
    raw TEXT,
    answer TEXT,                                 -- the code taken from the reply
    chrf REAL,                                   -- 0-100, sacrebleu chrF
    exact INTEGER,                               -- equal after normalisation
    valid INTEGER,                               -- syntax validity verdict (NULL: not checkable)
    loss REAL,                                   -- mean per-token NLL of the reference (local models)
    doctest TEXT,                                -- passed | failed | NULL (no doctests)
    detail TEXT,                                 -- JSON: validity findings, doctest output
    PRIMARY KEY (eval_id, position)
);
CREATE INDEX owncode_evals_model ON owncode_evals(model);
"""


def _split_columns(db: Database) -> None:
    cols = {c.name for c in db["dataset_examples"].columns}
    if "split" not in cols:
        db.execute("ALTER TABLE dataset_examples ADD COLUMN split TEXT NOT NULL DEFAULT 'train'")
    if "split_info" not in {c.name for c in db["datasets"].columns}:
        db.execute("ALTER TABLE datasets ADD COLUMN split_info TEXT")


def _tables(db: Database) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


MIGRATIONS: list = [
    ("2401_dataset_test_split", _split_columns),
    ("2402_owncode_evals", _tables),
]


class OwnCodeMixin(StoreBase):
    # -- splits ---------------------------------------------------------------------------------
    def set_dataset_split(self, db: Database, dataset_id: int, test_positions: list[int], info: dict | None) -> None:
        """Inside create_dataset's transaction: mark the test rows and record how they were chosen."""
        db.conn.executemany("UPDATE dataset_examples SET split = 'test' WHERE dataset_id = ? AND position = ?",
                            [(dataset_id, p) for p in test_positions])
        db.execute("UPDATE datasets SET split_info = ? WHERE id = ?", [to_json(info), dataset_id])

    def dataset_split_counts(self, dataset_id: int) -> dict:
        counts = {s: 0 for s in SPLITS}
        counts.update(dict(self.db.execute(
            "SELECT split, count(*) FROM dataset_examples WHERE dataset_id = ? GROUP BY split", [dataset_id])))
        return counts

    def dataset_split_info(self, dataset_id: int) -> dict:
        row = self.db.execute("SELECT split_info FROM datasets WHERE id = ?", [dataset_id]).fetchone()
        if row is None:
            raise NotFoundError(f"datasets {dataset_id} not found")
        return dict(from_json(row[0], {}) or {}, **self.dataset_split_counts(dataset_id))

    def test_examples(self, dataset_id: int) -> list[dict]:
        """The frozen test items with their position and language, in frozen order."""
        self.get_dataset_by_id(int(dataset_id))
        cur = self.db.execute("SELECT position, pair_id, instruction, input, output, language FROM dataset_examples "
                              "WHERE dataset_id = ? AND split = 'test' ORDER BY position", [int(dataset_id)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- own-code evals -------------------------------------------------------------------------
    def create_owncode_eval(self, dataset: dict, model: str, params: dict, *, name: str | None = None,
                            job_id: int | None = None) -> int:
        with self.tx() as db:
            return inserted_id(db.table("owncode_evals").insert({
                "name": name, "dataset_id": dataset["id"], "dataset": f"{dataset['name']}@{dataset['version']}",
                "model": model, "params": to_json(params), "status": "running", "job_id": job_id}))

    def get_owncode_eval(self, eval_id: int) -> dict:
        try:
            row = self.row("owncode_evals", int(eval_id))
        except NotFoundError:
            raise NotFoundError(f"no own-code eval {eval_id}; see `python -m evals owncode list`") from None
        return dict(row, params=from_json(row["params"], {}), metrics=from_json(row["metrics"]))

    def owncode_eval_for_job(self, job_id: int) -> dict | None:
        row = self.db.execute("SELECT id FROM owncode_evals WHERE job_id = ?", [job_id]).fetchone()
        return self.get_owncode_eval(row[0]) if row else None

    def list_owncode_evals(self, dataset_id: int | None = None, limit: int = 200) -> list[dict]:
        rows = self.db["owncode_evals"].rows_where("dataset_id = ?" if dataset_id else None,
                                                   [dataset_id] if dataset_id else [], order_by="id DESC",
                                                   limit=limit)
        return [dict(r, params=from_json(r["params"], {}), metrics=from_json(r["metrics"])) for r in rows]

    def update_owncode_eval(self, eval_id: int, *, status: str | None = None, metrics: Any = None,
                            error: str | None = None, params: dict | None = None) -> dict:
        if status is not None and status not in OWNCODE_STATUSES:
            raise StoreError(f"unknown own-code eval status {status!r}")
        fields: dict[str, Any] = {k: v for k, v in {"status": status, "metrics": to_json(metrics), "error": error,
                                    "params": to_json(params)}.items() if v is not None}
        if status == "done":
            fields["error"] = None
        with self.tx() as db:
            self.get_owncode_eval(eval_id)
            db.table("owncode_evals").update(int(eval_id), dict(fields, updated_at=now_iso()))
        return self.get_owncode_eval(eval_id)

    def add_owncode_items(self, eval_id: int, items: list[dict]) -> None:
        """Store answered items; an item answered before (a resumed job) is replaced."""
        rows = [dict(i, eval_id=int(eval_id), prompt=to_json(i.get("prompt")), detail=to_json(i.get("detail")))
                for i in items]
        with self.tx() as db:
            db.table("owncode_items").upsert_all(rows, pk=("eval_id", "position"))

    def owncode_items(self, eval_id: int) -> list[dict]:
        rows = self.db["owncode_items"].rows_where("eval_id = ?", [int(eval_id)], order_by="position")
        return [dict(r, prompt=from_json(r["prompt"]), detail=from_json(r["detail"], {})) for r in rows]

    def owncode_done_positions(self, eval_id: int) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT position FROM owncode_items WHERE eval_id = ?", [int(eval_id)])}

    def delete_owncode_eval(self, eval_id: int) -> None:
        with self.tx() as db:
            self.get_owncode_eval(eval_id)
            db.execute("DELETE FROM owncode_items WHERE eval_id = ?", [int(eval_id)])
            db.execute("DELETE FROM owncode_evals WHERE id = ?", [int(eval_id)])
