"""Job rows: what pipeline.jobs reads and writes, as a state machine whose every transition is a
compare-and-set (an UPDATE … WHERE status = <expected>), so two writers can never both win:

    queued ──claim──▶ running ──finish──▶ done | failed | cancelled | interrupted
      │                  │                               │
      └─cancel─▶ cancelled   (cancel of running: cancel_requested_at, the child stops itself)
                                     resume (once) ◀─────┘ failed | cancelled | interrupted → queued

Progress updates touch only their own columns, so a job reporting progress and a person
cancelling it never overwrite each other. `spawn_pid` is the child started for a queued job: if
it dies before claiming, the reaper can tell the job will never start.
"""
from __future__ import annotations

from typing import Any

from pipeline.store.base import ConflictError, NotFoundError, StoreBase, from_json, inserted_id, now_iso, to_json

ACTIVE = ("queued", "running")
RESUMABLE = ("failed", "cancelled", "interrupted")

MIGRATIONS: list = [
    ("1000_jobs_state_machine", """
ALTER TABLE jobs ADD COLUMN cancel_requested_at TEXT;   -- a person asked a running job to stop
ALTER TABLE jobs ADD COLUMN spawn_pid INTEGER;          -- the child started for the queued job
ALTER TABLE jobs ADD COLUMN spawn_started REAL;         -- its create time (guards pid reuse)
"""),
]


class JobsMixin(StoreBase):
    def create_job(self, kind: str, params: dict, title: str | None = None) -> int:
        with self.tx() as db:
            return inserted_id(db.table("jobs").insert(
                {"kind": kind, "params": to_json(params), "title": title or kind, "status": "queued"}
            ))

    def get_job(self, job_id: int) -> dict:
        row = self.db.execute("SELECT 1 FROM jobs WHERE id=?", [job_id]).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        job = self.row("jobs", job_id)
        job["params"] = from_json(job["params"], {})
        job["result"] = from_json(job["result"])
        return job

    def list_jobs(self, limit: int = 50, status: str | None = None, kind: str | None = None) -> list[dict]:
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        return list(self.db["jobs"].rows_where(
            " AND ".join(where) or None, args, order_by="id DESC", limit=limit,
            select="id, kind, title, status, done, total, rate, eta_s, message, pid, attempts, "
                   "error, created_at, started_at, finished_at, cancel_requested_at",
        ))

    def active_jobs(self) -> list[dict]:
        """Queued and running jobs with what the reaper needs to check their processes."""
        return list(self.db.query(
            "SELECT id, kind, status, pid, pid_started, spawn_pid, spawn_started, cancel_requested_at, "
            "params FROM jobs WHERE status IN ('queued', 'running') ORDER BY id"))

    # -- transitions (each one a compare-and-set) -------------------------------------------
    def record_spawn(self, job_id: int, pid: int, started: float) -> bool:
        with self.tx() as db:
            return db.execute("UPDATE jobs SET spawn_pid=?, spawn_started=? WHERE id=? AND status='queued'",
                              [pid, started, job_id]).rowcount == 1

    def claim_job(self, job_id: int, pid: int, pid_started: float, log_path: str) -> bool:
        """queued → running for this process; False when someone else claimed or cancelled it."""
        with self.tx() as db:
            return db.execute(
                "UPDATE jobs SET status='running', pid=?, pid_started=?, log_path=?, attempts=attempts+1, "
                "started_at=?, heartbeat_at=?, error=NULL, finished_at=NULL, cancel_requested_at=NULL "
                "WHERE id=? AND status='queued'",
                [pid, pid_started, log_path, now_iso(), now_iso(), job_id]).rowcount == 1

    def mark_job_started(self, job_id: int, pid: int, pid_started: float, log_path: str) -> None:
        """Tests and tools that run a job body by hand: claim it or say why not."""
        if not self.claim_job(job_id, pid, pid_started, log_path):
            raise ConflictError(f"job {job_id} is {self.job_status(job_id)}, not queued; it cannot be started")

    def request_cancel(self, job_id: int) -> str:
        """'stopped_queued' for a queued job (the cancel wins: its child finds nothing to claim),
        'requested' for a running one (it stops itself), else the job's finished status."""
        with self.tx() as db:
            if db.execute("UPDATE jobs SET status='cancelled', error='cancelled by user', finished_at=?, "
                          "eta_s=NULL WHERE id=? AND status='queued'", [now_iso(), job_id]).rowcount:
                return "stopped_queued"
            if db.execute("UPDATE jobs SET cancel_requested_at=COALESCE(cancel_requested_at, ?), "
                          "message='cancelling: finishing requests already sent' WHERE id=? AND status='running'",
                          [now_iso(), job_id]).rowcount:
                return "requested"
        return self.job_status(job_id)

    def update_job_progress(self, job_id: int, done: int, total: int | None, rate: float | None,
                            eta_s: float | None, message: str | None) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE jobs SET done=?, total=COALESCE(?, total), rate=?, eta_s=?, "
                "message=COALESCE(?, message), heartbeat_at=? WHERE id=?",
                [done, total, rate, eta_s, message, now_iso(), job_id],
            )

    def finish_job(self, job_id: int, status: str, *, error: str | None = None,
                   result: Any = None, only_if: tuple[str, ...] = ACTIVE, pid: int | None = None) -> bool:
        """Move a job to a final status unless it already left `only_if` (first writer wins);
        with `pid`, only while that process still owns the job (a stale child cannot finish it)."""
        marks = ",".join("?" * len(only_if))
        owner, args = ("", []) if pid is None else (" AND pid=?", [pid])
        with self.tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET status=?, error=COALESCE(?, error), "
                f"result=COALESCE(?, result), finished_at=?, eta_s=NULL "
                f"WHERE id=? AND status IN ({marks}){owner}",
                [status, error, to_json(result), now_iso(), job_id, *only_if, *args],
            )
            return cur.rowcount == 1

    def requeue_job(self, job_id: int) -> bool:
        """failed | cancelled | interrupted → queued, once: a second resume finds it queued."""
        marks = ",".join("?" * len(RESUMABLE))
        with self.tx() as db:
            return db.execute(
                "UPDATE jobs SET status='queued', finished_at=NULL, error=NULL, pid=NULL, pid_started=NULL, "
                "message='resumed: continues where it stopped', "
                f"spawn_pid=NULL, spawn_started=NULL, cancel_requested_at=NULL WHERE id=? AND status IN ({marks})",
                [job_id, *RESUMABLE]).rowcount == 1

    def reap_unstarted(self, job_id: int, spawn_pid: int) -> bool:
        """A queued job whose child died before claiming it will never start: interrupted."""
        with self.tx() as db:
            return db.execute(
                "UPDATE jobs SET status='interrupted', finished_at=?, error='the job process ended before it "
                "started (see its log)' WHERE id=? AND status='queued' AND spawn_pid=?",
                [now_iso(), job_id, spawn_pid]).rowcount == 1

    # -- reads ------------------------------------------------------------------------------
    def job_status(self, job_id: int) -> str:
        row = self.db.execute("SELECT status FROM jobs WHERE id=?", [job_id]).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        return str(row[0])

    def finished_job_timings(self, kind: str, limit: int = 5) -> list[dict]:
        """The newest jobs of a kind that finished in one attempt: their params, units of work
        (`total`) and wall seconds, which the cost model re-calibrates from."""
        rows = self.db.execute(
            "SELECT params, total, (julianday(finished_at) - julianday(started_at)) * 86400.0 "
            "FROM jobs WHERE kind=? AND status='done' AND attempts<=1 AND total>0 "
            "AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            [kind, limit]).fetchall()
        return [{"params": from_json(r[0], {}), "total": r[1], "seconds": r[2]} for r in rows]

    def job_should_stop(self, job_id: int) -> bool:
        """True once the job was cancelled or left running (checked by the job between steps)."""
        row = self.db.execute("SELECT status, cancel_requested_at FROM jobs WHERE id=?", [job_id]).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        return row[0] not in ACTIVE or row[1] is not None
