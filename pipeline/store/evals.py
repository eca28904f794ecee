"""Suites, evals, samples and verdicts (evals/).

A suite is a named set of tasks (prompt, runnable test suffix, entry point, canonical solution;
extras such as the chat instruction, extended tests or a buggy solution live in `meta`). An eval
is one model on one suite with its generation/execution params; each of its samples keeps the
prompt sent, the raw model output, the completion that was executed, the stop words and the
verdict, so every score can be traced back to the text that earned it.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from pipeline.store.base import ConflictError, NotFoundError, StoreBase, StoreError, from_json, inserted_id, to_json


def _samples_extras(db: Database) -> None:
    cols = {c.name for c in db["eval_samples"].columns}
    for name, kind in (("failing_test", "TEXT"), ("passed_plus", "INTEGER"),
                       ("verdict_plus", "TEXT"), ("error_plus", "TEXT"), ("output", "TEXT")):
        if name not in cols:
            db.execute(f"ALTER TABLE eval_samples ADD COLUMN {name} {kind}")
    cols = {c.name for c in db["evals"].columns}
    for name, kind in (("name", "TEXT"), ("error", "TEXT"), ("updated_at", "TEXT")):
        if name not in cols:
            db.execute(f"ALTER TABLE evals ADD COLUMN {name} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS eval_samples_verdict ON eval_samples(eval_id, verdict)")


# Schema steps this area adds on top of schema.INITIAL: (unique name, sql or callable(db)).
MIGRATIONS: list = [
    ("0101_evals_sample_details", _samples_extras),
    # continuation (prompt + completion) or full (the completion is the whole program)
    ("0102_evals_sample_mode", "ALTER TABLE eval_samples ADD COLUMN mode TEXT"),
    # the engine (transformers, llama.cpp, vllm…) and quantization (fp32, q8_0…) behind each answer
    ("2301_eval_sample_engine", lambda db: [db.execute(f"ALTER TABLE eval_samples ADD COLUMN {c} TEXT")
                                            for c in ("engine", "quant")]),
]

SAMPLE_FIELDS = ("prompt", "raw", "completion", "stop_words", "mode", "engine", "quant")
VERDICT_FIELDS = ("verdict", "passed", "error", "duration_s", "failing_test", "passed_plus",
                  "verdict_plus", "error_plus", "output", "valid", "findings")
EVAL_STATUSES = ("new", "generating", "generated", "executing", "done", "failed")


class EvalsMixin(StoreBase):
    # -- suites -------------------------------------------------------------------------------
    def create_suite(self, name: str, tasks: Iterable[dict], *, language: str = "python",
                     shape: str = "humaneval", source: str | None = None,
                     replace: bool = False) -> dict:
        """Store a suite and its tasks in one transaction; `replace` swaps an existing one."""
        name = (name or "").strip()
        if not name:
            raise StoreError("a suite needs a name")
        rows = []
        for t in tasks:
            if not t.get("task_id") or t.get("prompt") is None:
                raise StoreError(f"suite {name!r}: every task needs a task_id and a prompt")
            rows.append({"task_id": str(t["task_id"]), "prompt": t["prompt"], "test": t.get("test"),
                         "entry_point": t.get("entry_point"),
                         "canonical_solution": t.get("canonical_solution"),
                         "meta": to_json(t.get("meta") or {})})
        if not rows:
            raise StoreError(f"suite {name!r} has no tasks")
        if len({r["task_id"] for r in rows}) != len(rows):
            raise StoreError(f"suite {name!r} repeats a task_id; task ids must be unique")
        with self.tx() as db:
            existing = db.execute("SELECT id FROM suites WHERE name=?", [name]).fetchone()
            if existing and not replace:
                raise ConflictError(f"a suite named {name!r} already exists (import with replace)")
            if existing:
                used = db.execute("SELECT COUNT(*) FROM evals WHERE suite=?", [name]).fetchone()[0]
                if used:
                    raise ConflictError(f"suite {name!r} is used by {used} eval(s); import the new "
                                        "version under another name")
                db.execute("DELETE FROM suite_tasks WHERE suite_id=?", [existing[0]])
                db.execute("DELETE FROM suites WHERE id=?", [existing[0]])
            suite_id = inserted_id(db.table("suites").insert({"name": name, "language": language, "shape": shape,
                                            "source": source}))
            db.table("suite_tasks").insert_all([dict(r, suite_id=suite_id) for r in rows])
        return self.get_suite(name)

    def get_suite(self, name: str) -> dict:
        cur = self.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM suite_tasks t WHERE t.suite_id = s.id) AS tasks "
            "FROM suites s WHERE s.name = ?", [name])
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no suite named {name!r}; import one first")
        return dict(zip([d[0] for d in cur.description], row))

    def list_suites(self) -> list[dict]:
        cur = self.db.execute(
            "SELECT s.id, s.name, s.language, s.shape, s.source, s.created_at, "
            "(SELECT COUNT(*) FROM suite_tasks t WHERE t.suite_id = s.id) AS tasks "
            "FROM suites s ORDER BY s.name")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def suite_tasks(self, name: str) -> list[dict]:
        suite = self.get_suite(name)
        rows = self.db["suite_tasks"].rows_where("suite_id = ?", [suite["id"]], order_by="id")
        return [dict(r, meta=from_json(r["meta"], {}), language=suite["language"]) for r in rows]

    def delete_suite(self, name: str) -> None:
        suite = self.get_suite(name)
        with self.tx() as db:
            used = db.execute("SELECT COUNT(*) FROM evals WHERE suite=?", [name]).fetchone()[0]
            if used:
                raise ConflictError(f"suite {name!r} is used by {used} eval(s); delete those first")
            db.execute("DELETE FROM suite_tasks WHERE suite_id=?", [suite["id"]])
            db.execute("DELETE FROM suites WHERE id=?", [suite["id"]])

    # -- evals --------------------------------------------------------------------------------
    def create_eval(self, suite: str, model: str | None, params: dict, *,
                    name: str | None = None, job_id: int | None = None) -> int:
        self.get_suite(suite)
        with self.tx() as db:
            return inserted_id(db.table("evals").insert({"suite": suite, "model": model, "params": to_json(params),
                                       "status": "new", "name": name, "job_id": job_id}))

    def get_eval(self, eval_id: int) -> dict:
        row = self.row("evals", eval_id)
        row["params"] = from_json(row["params"], {})
        row["metrics"] = from_json(row["metrics"])
        return row

    def list_evals(self, suite: str | None = None, limit: int = 200) -> list[dict]:
        rows = self.db["evals"].rows_where("suite = ?" if suite else None,
                                           [suite] if suite else [], order_by="id DESC",
                                           limit=limit)
        return [dict(r, params=from_json(r["params"], {}), metrics=from_json(r["metrics"]))
                for r in rows]

    def update_eval(self, eval_id: int, *, status: str | None = None, metrics: Any = None,
                    job_id: int | None = None, error: str | None = None,
                    params: dict | None = None) -> dict:
        if status is not None and status not in EVAL_STATUSES:
            raise StoreError(f"unknown eval status {status!r}; one of {', '.join(EVAL_STATUSES)}")
        fields: dict[str, Any] = {k: v for k, v in {"status": status, "metrics": to_json(metrics),
                                    "job_id": job_id, "error": error,
                                    "params": to_json(params)}.items() if v is not None}
        if status == "done":
            fields["error"] = error
        with self.tx() as db:
            self.row("evals", eval_id)
            if fields:
                from pipeline.store.base import now_iso

                db.table("evals").update(eval_id, dict(fields, updated_at=now_iso()))
        return self.get_eval(eval_id)

    # -- samples ------------------------------------------------------------------------------
    def add_eval_samples(self, eval_id: int, samples: Iterable[dict]) -> int:
        """Insert or replace generated samples (task_id, sample_idx, prompt, raw, completion,
        stop_words); a replaced sample loses its old verdict."""
        rows = []
        for s in samples:
            row = {"eval_id": eval_id, "task_id": str(s["task_id"]),
                   "sample_idx": int(s.get("sample_idx", 0)), **dict.fromkeys(VERDICT_FIELDS)}
            for key in SAMPLE_FIELDS:
                value = s.get(key)
                row[key] = to_json(value) if key == "stop_words" and value is not None else value
            if isinstance(row["prompt"], list):
                row["prompt"] = to_json(row["prompt"])
            rows.append(row)
        with self.tx() as db:
            self.row("evals", eval_id)
            db.table("eval_samples").upsert_all(rows, pk=("eval_id", "task_id", "sample_idx"),
                                          alter=False)
        return len(rows)

    def record_verdicts(self, eval_id: int, verdicts: Iterable[dict]) -> int:
        """Write execution results onto samples keyed by (task_id, sample_idx)."""
        n = 0
        with self.tx() as db:
            for v in verdicts:
                fields = {k: v[k] for k in VERDICT_FIELDS if k in v}
                if "findings" in fields and not isinstance(fields["findings"], (str, type(None))):
                    fields["findings"] = to_json(fields["findings"])
                for flag in ("passed", "passed_plus", "valid"):
                    if fields.get(flag) is not None:
                        fields[flag] = int(bool(fields[flag]))
                if not fields:
                    continue
                sets = ", ".join(f"{k}=?" for k in fields)
                cur = db.execute(f"UPDATE eval_samples SET {sets} WHERE eval_id=? AND task_id=? "
                                 "AND sample_idx=?",
                                 [*fields.values(), eval_id, str(v["task_id"]), int(v["sample_idx"])])
                n += cur.rowcount
        return n

    def eval_samples(self, eval_id: int, *, task_id: str | None = None,
                     pending_only: bool = False, limit: int | None = None) -> list[dict]:
        where: list[str] = ["eval_id = ?"]
        args: list[Any] = [eval_id]
        if task_id is not None:
            where.append("task_id = ?")
            args.append(str(task_id))
        if pending_only:
            where.append("verdict IS NULL AND completion IS NOT NULL")
        rows = self.db["eval_samples"].rows_where(" AND ".join(where), args,
                                                  order_by="id", limit=limit)
        return [dict(r, stop_words=from_json(r["stop_words"]), findings=from_json(r["findings"]))
                for r in rows]

    def eval_sample_keys(self, eval_id: int) -> set[tuple[str, int]]:
        """(task_id, sample_idx) of samples already generated: what a resumed job skips."""
        return {(r[0], r[1]) for r in self.db.execute(
            "SELECT task_id, sample_idx FROM eval_samples WHERE eval_id=? AND completion IS NOT NULL",
            [eval_id])}

    def eval_engines(self, eval_id: int) -> list[dict]:
        """How many answers each (engine, quantization) wrote in this eval; engine None = recorded
        before engines were (an eval from an older studio)."""
        return [{"engine": r[0], "quant": r[1], "samples": r[2]} for r in self.db.execute(
            "SELECT engine, quant, COUNT(*) FROM eval_samples WHERE eval_id=? AND completion IS NOT NULL "
            "GROUP BY engine, quant ORDER BY COUNT(*) DESC", [eval_id])]

    def eval_task_summary(self, eval_id: int) -> list[dict]:
        """Per task: samples, passed, extended passes and the first error, in task order."""
        cur = self.db.execute(
            "SELECT task_id, COUNT(*) AS n, SUM(COALESCE(passed, 0)) AS passed, "
            "SUM(CASE WHEN verdict IS NOT NULL THEN 1 ELSE 0 END) AS executed, "
            "SUM(COALESCE(passed_plus, 0)) AS passed_plus, "
            "SUM(CASE WHEN passed_plus IS NOT NULL THEN 1 ELSE 0 END) AS executed_plus, "
            "SUM(CASE WHEN valid IS NOT NULL THEN 1 ELSE 0 END) AS checked, "
            "SUM(COALESCE(valid, 0)) AS valid, "
            "(SELECT e.error FROM eval_samples e WHERE e.eval_id = s.eval_id AND e.task_id = s.task_id "
            " AND e.passed = 0 ORDER BY e.sample_idx LIMIT 1) AS first_error, "
            "(SELECT e.failing_test FROM eval_samples e WHERE e.eval_id = s.eval_id "
            " AND e.task_id = s.task_id AND e.passed = 0 ORDER BY e.sample_idx LIMIT 1) AS failing_test "
            "FROM eval_samples s WHERE eval_id = ? GROUP BY task_id ORDER BY MIN(id)", [eval_id])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
