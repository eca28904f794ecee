"""Job rows: what pipeline.jobs reads and writes. Progress updates touch only their own columns,
so a job reporting progress and a person cancelling it from the UI never overwrite each other."""
from __future__ import annotations

from typing import Any

from pipeline.store.base import NotFoundError, from_json, now_iso, to_json

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")


class JobsMixin:
    def create_job(self, kind: str, params: dict, title: str | None = None) -> int:
        with self.tx() as db:
            return db["jobs"].insert(
                {"kind": kind, "params": to_json(params), "title": title or kind, "status": "queued"}
            ).last_pk

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
                   "error, created_at, started_at, finished_at",
        ))

    def mark_job_started(self, job_id: int, pid: int, pid_started: float, log_path: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE jobs SET status='running', pid=?, pid_started=?, log_path=?, "
                "attempts=attempts+1, started_at=?, heartbeat_at=?, error=NULL, finished_at=NULL "
                "WHERE id=?",
                [pid, pid_started, log_path, now_iso(), now_iso(), job_id],
            )

    def update_job_progress(self, job_id: int, done: int, total: int | None, rate: float | None,
                            eta_s: float | None, message: str | None) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE jobs SET done=?, total=COALESCE(?, total), rate=?, eta_s=?, "
                "message=COALESCE(?, message), heartbeat_at=? WHERE id=?",
                [done, total, rate, eta_s, message, now_iso(), job_id],
            )

    def finish_job(self, job_id: int, status: str, *, error: str | None = None,
                   result: Any = None, only_if: tuple[str, ...] = ACTIVE) -> bool:
        """Move a job to a final status unless it already left `only_if` (first writer wins)."""
        marks = ",".join("?" * len(only_if))
        with self.tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET status=?, error=COALESCE(?, error), "
                f"result=COALESCE(?, result), finished_at=?, eta_s=NULL "
                f"WHERE id=? AND status IN ({marks})",
                [status, error, to_json(result), now_iso(), job_id, *only_if],
            )
            return cur.rowcount == 1

    def requeue_job(self, job_id: int) -> None:
        with self.tx() as db:
            db.execute("UPDATE jobs SET status='queued', finished_at=NULL, error=NULL WHERE id=?",
                       [job_id])

    def job_status(self, job_id: int) -> str:
        row = self.db.execute("SELECT status FROM jobs WHERE id=?", [job_id]).fetchone()
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        return row[0]
