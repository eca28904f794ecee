"""Store area: training runs, their per-step metrics, and the device sets they hold (issue 11).

A run is one fine-tune: its config (JSON, diffable), the frozen dataset version, the base model,
the exact `accelerate launch` command and config file text shown before it started, its status
and last step. `run_metrics` has one row per logged step (train and eval logs at the same step
merge into it, and a resumed run rewrites the steps it repeats). Two runs on the same devices
never train at once: `claim_devices` is a compare-and-set in one IMMEDIATE transaction. One run
never trains twice at once either: a resume (Train tab, CLI) reserves the run with
`reserve_run_resume`, and every train job claims its run with `claim_run_for_job` before it waits
for devices, so a Jobs-tab resume of the old job and a Train-tab resume cannot both train it.
Checkpoints are rows of `models` (kind local, `run_id` set), registered the moment they are saved.
"""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pipeline.store.base import (
    ConflictError,
    NotFoundError,
    StoreBase,
    StoreError,
    from_json,
    inserted_id,
    now_iso,
    to_json,
)

# The initial schema created bare `runs` and `run_metrics` tables; this step grows them in
# place (ALTER only, so it is safe whatever they hold) and adds the unique keys the code relies on.
RUN_COLUMNS = {
    "dataset": "TEXT", "dataset_version": "INTEGER", "base_path": "TEXT", "method": "TEXT",
    "template": "TEXT", "devices": "TEXT", "command": "TEXT", "launch_files": "TEXT",
    "estimate": "TEXT", "parent_run_id": "INTEGER", "step": "INTEGER NOT NULL DEFAULT 0",
    "total_steps": "INTEGER", "stop_requested": "INTEGER NOT NULL DEFAULT 0", "error": "TEXT",
    "result": "TEXT", "train_seconds": "REAL NOT NULL DEFAULT 0",
    "num_devices": "INTEGER NOT NULL DEFAULT 1", "started_at": "TEXT", "finished_at": "TEXT",
}
METRIC_COLUMNS = {"learning_rate": "REAL", "grad_norm": "REAL", "tokens_per_s": "REAL",
                  "memory_mb": "REAL"}


def _grow_runs(db: Database) -> None:
    for table, wanted in (("runs", RUN_COLUMNS), ("run_metrics", METRIC_COLUMNS)):
        have = {c.name for c in db[table].columns}
        for name, kind in wanted.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS runs_name ON runs(name)")
    db.execute("CREATE INDEX IF NOT EXISTS runs_status ON runs(status)")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS run_metrics_step ON run_metrics(run_id, step)")


MIGRATIONS: list = [("1101_train_runs", _grow_runs)]

RUN_ACTIVE = ("queued", "running", "stopping")
RUN_FINISHED = ("done", "stopped", "failed", "interrupted", "cancelled")
_JSON = ("config", "launch_files", "estimate", "result")
_METRIC_COLUMNS = ("epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "tokens_per_s", "memory_mb")


def _decode(row: dict) -> dict:
    for key in _JSON:
        row[key] = from_json(row.get(key), {} if key != "result" else None)
    return row


class TrainMixin(StoreBase):
    def create_run(self, name: str, config: dict, **fields: Any) -> dict:
        name = (name or "").strip()
        if not name:
            raise StoreError("a run needs a name")
        row = {"name": name, "config": to_json(config), **fields}
        for key in _JSON:
            if key in row and not isinstance(row[key], (str, type(None))):
                row[key] = to_json(row[key])
        with self.tx() as db:
            if db.execute("SELECT 1 FROM runs WHERE name=?", [name]).fetchone():
                raise ConflictError(f"a run named {name!r} already exists; pick another name")
            run_id = inserted_id(db.table("runs").insert(row))
        return self.get_run(run_id)

    def get_run(self, run: int | str) -> dict:
        column = "id" if isinstance(run, int) or str(run).isdigit() else "name"
        rows = list(self.db["runs"].rows_where(f"{column} = ?", [run]))
        if not rows:
            raise NotFoundError(f"no training run {run!r}; `python -m pipeline train runs` lists them")
        return _decode(rows[0])

    def list_runs(self, limit: int = 100) -> list[dict]:
        return [_decode(r) for r in self.db["runs"].rows_where(order_by="id DESC", limit=limit)]

    def update_run(self, run_id: int, **fields: Any) -> None:
        for key in _JSON:
            if key in fields and not isinstance(fields[key], (str, type(None))):
                fields[key] = to_json(fields[key])
        with self.tx() as db:
            db.table("runs").update(run_id, fields)

    def set_run_status(self, run_id: int, status: str, *, error: str | None = None,
                       only_if: tuple[str, ...] | None = None, result: dict | None = None) -> bool:
        """Move a run to `status` unless it already left `only_if` (first writer wins)."""
        sets = ["status=?", "error=COALESCE(?, error)"]
        args: list = [status, error]
        if status in RUN_FINISHED:
            sets.append("finished_at=?")
            args.append(now_iso())
        if status == "running":
            sets += ["started_at=?", "finished_at=NULL", "error=NULL", "stop_requested=0"]
            args.append(now_iso())
            args[1] = None
        if result is not None:
            sets.append("result=?")
            args.append(to_json(result))
        sql = f"UPDATE runs SET {', '.join(sets)} WHERE id=?"
        args.append(run_id)
        if only_if:
            sql += f" AND status IN ({','.join('?' * len(only_if))})"
            args += list(only_if)
        with self.tx() as db:
            return db.execute(sql, args).rowcount == 1

    # -- one training per run: every start and resume goes through these compare-and-sets ----
    def reserve_run_resume(self, run_id: int, resumable: tuple[str, ...]) -> bool:
        """`resumable` → queued with no job yet, unless a job already owns the run (queued or
        running, from either tab): True for the one caller that may submit the resume job."""
        marks = ",".join("?" * len(resumable))
        with self.tx() as db:
            return db.execute(
                f"UPDATE runs SET status='queued', job_id=NULL, error=NULL WHERE id=? AND status IN ({marks}) "
                f"AND {_NO_ACTIVE_OWNER}", [run_id, *resumable]).rowcount == 1

    def attach_run_job(self, run_id: int, job_id: int) -> bool:
        """Give a reserved run (no job) to `job_id`; False when another job took it meanwhile."""
        with self.tx() as db:
            return db.execute("UPDATE runs SET job_id=? WHERE id=? AND (job_id IS NULL OR job_id=?)",
                              [job_id, run_id, job_id]).rowcount == 1

    def claim_run_for_job(self, run_id: int, job_id: int) -> int | None:
        """The job body's claim: the run becomes `job_id`'s (queued) when it is already this job's,
        has none, or its job has ended; returns None when claimed, else the owning job's id."""
        with self.tx() as db:
            if db.execute(f"UPDATE runs SET job_id=?, status='queued' WHERE id=? AND status != 'done' "
                          f"AND (job_id=? OR {_NO_ACTIVE_OWNER})", [job_id, run_id, job_id]).rowcount == 1:
                return None
            row = db.execute("SELECT job_id FROM runs WHERE id=?", [run_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no training run {run_id}")
        return row[0] or 0

    def claim_devices(self, run_id: int, devices: str, job_id: int | None = None) -> int | None:
        """Start `run_id` on `devices` ('cpu', 'cuda:0,1') unless another active run holds any of
        them; returns None when started, else the id of the run it waits for. The run itself is
        claimed once: it must be queued (and `job_id`'s, when given), so a second job for the
        same run is refused (ConflictError) instead of training it twice."""
        wanted = _device_set(devices)
        with self.tx() as db:
            for other_id, other in db.execute(
                    "SELECT id, devices FROM runs WHERE status IN ('running', 'stopping') AND id != ?",
                    [run_id]).fetchall():
                if _device_set(other or "") & wanted:
                    return int(other_id)
            owner = "" if job_id is None else " AND job_id=?"
            claimed = db.execute(
                "UPDATE runs SET status='running', devices=?, started_at=?, finished_at=NULL, "
                f"error=NULL, stop_requested=0 WHERE id=? AND status='queued'{owner}",
                [devices, now_iso(), run_id, *([] if job_id is None else [job_id])]).rowcount == 1
            if not claimed:
                status, holder = db.execute("SELECT status, job_id FROM runs WHERE id=?", [run_id]).fetchone()
        if not claimed:
            raise ConflictError(f"run {run_id} is {status} under job {holder}; it trains once at a time")
        return None

    def request_run_stop(self, run_id: int) -> bool:
        """Ask a running run to save a checkpoint and end (its trainer callback reads this)."""
        with self.tx() as db:
            return db.execute("UPDATE runs SET stop_requested=1, status='stopping' WHERE id=? AND "
                              "status='running'", [run_id]).rowcount == 1

    def run_stop_requested(self, run_id: int) -> bool:
        row = self.db.execute("SELECT stop_requested FROM runs WHERE id=?", [run_id]).fetchone()
        return bool(row and row[0])

    def record_run_progress(self, run_id: int, step: int, total_steps: int | None = None,
                            add_seconds: float = 0.0) -> None:
        with self.tx() as db:
            db.execute("UPDATE runs SET step=?, total_steps=COALESCE(?, total_steps), "
                       "train_seconds=train_seconds+? WHERE id=?",
                       [step, total_steps, add_seconds, run_id])

    def log_run_metrics(self, run_id: int, step: int, values: dict) -> None:
        """Merge one log event into the step's row (train and eval logs arrive separately)."""
        row = {c: values.get(c) for c in _METRIC_COLUMNS}
        cols = ", ".join(_METRIC_COLUMNS)
        marks = ", ".join("?" * len(_METRIC_COLUMNS))
        merge = ", ".join(f"{c}=COALESCE(excluded.{c}, {c})" for c in _METRIC_COLUMNS)
        with self.tx() as db:
            db.execute(f"INSERT INTO run_metrics (run_id, step, {cols}, at) VALUES (?, ?, {marks}, ?) "
                       f"ON CONFLICT(run_id, step) DO UPDATE SET {merge}, at=excluded.at",
                       [run_id, step, *row.values(), now_iso()])

    def run_metrics(self, run_id: int) -> list[dict]:
        return list(self.db["run_metrics"].rows_where("run_id = ?", [run_id], order_by="step"))

    def latest_run_loss(self, run_id: int) -> float | None:
        row = self.db.execute("SELECT loss FROM run_metrics WHERE run_id=? AND loss IS NOT NULL "
                              "ORDER BY step DESC LIMIT 1", [run_id]).fetchone()
        return row[0] if row else None

    def run_checkpoints(self, run_id: int) -> list[dict]:
        return [dict(m, meta=from_json(m["meta"], {})) for m in
                self.db["models"].rows_where("run_id = ?", [run_id], order_by="id")]

    def runs_with_job(self, statuses: tuple[str, ...] = RUN_ACTIVE) -> list[dict]:
        marks = ",".join("?" * len(statuses))
        return [dict(r) for r in self.db.query(
            f"SELECT r.id, r.status, r.job_id, j.status AS job_status FROM runs r "
            f"LEFT JOIN jobs j ON j.id = r.job_id WHERE r.status IN ({marks})", list(statuses))]


_NO_ACTIVE_OWNER = ("(job_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id "
                    "AND j.status IN ('queued', 'running')))")


def _device_set(devices: str) -> set[str]:
    """'cuda:0,1' → {'cuda:0', 'cuda:1'}; 'cpu' → {'cpu'}."""
    kind, _, ids = devices.partition(":")
    return {f"{kind}:{i.strip()}" for i in ids.split(",") if i.strip()} if ids else {kind} - {""}
