"""Store area: judge suites, judged evals ("judge runs"), contestants' answers and judgments (evals/judge).

A judgment is keyed by (run, request key) with a UNIQUE index: one row per request the judge is
asked (one item × one contestant, or one item × an ordered pair, or one item × all systems). A
row is written once its reply is in, with the judge, the prompt, the raw reply, tokens and cost of
every paid attempt in one transaction, so a resumed run skips what is stored and never pays
twice. Only rows whose request failed without a paid reply (`status = 'failed'`) are asked again.
"""
from __future__ import annotations

import sqlite3
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


def _judgment_columns(db: Database) -> None:
    # The `judgments` table of the initial schema had one score per row; a judged eval needs
    # several (multi-system, rubric axes), the prompt, tokens and cost, and a resume key.
    cols = {c.name for c in db["judgments"].columns}
    for name, kind in (("run_id", "INTEGER REFERENCES judge_runs(id)"), ("item_id", "TEXT"),
                       ("request_key", "TEXT"), ("systems", "TEXT"), ("prompt", "TEXT"),
                       ("scores", "TEXT"), ("reasons", "TEXT"), ("status", "TEXT"), ("error", "TEXT"),
                       ("attempts", "INTEGER"), ("tokens_in", "INTEGER"), ("tokens_out", "INTEGER"),
                       ("cost", "REAL"), ("latency_ms", "REAL"), ("updated_at", "TEXT")):
        if name not in cols:
            db.execute(f"ALTER TABLE judgments ADD COLUMN {name} {kind}")
    db.execute("CREATE UNIQUE INDEX judgments_run_key ON judgments(run_id, request_key) "
               "WHERE run_id IS NOT NULL")


MIGRATIONS: list = [
    ("1301_judge_tables", """
     CREATE TABLE judge_suites (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         source TEXT,
         created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
     );
     CREATE TABLE judge_items (
         id INTEGER PRIMARY KEY,
         suite_id INTEGER NOT NULL REFERENCES judge_suites(id),
         item_id TEXT NOT NULL,
         category TEXT NOT NULL,
         language TEXT,
         instruction TEXT NOT NULL,
         reference TEXT,
         UNIQUE(suite_id, item_id)
     );
     CREATE TABLE judge_runs (
         id INTEGER PRIMARY KEY,
         name TEXT,
         suite TEXT NOT NULL,
         mode TEXT NOT NULL,                   -- multi | single | pairwise | rubric
         judge TEXT NOT NULL,                  -- registered model name
         contestants TEXT NOT NULL,            -- JSON list of model names
         params TEXT NOT NULL DEFAULT '{}',    -- JSON: the JudgeConfig
         status TEXT NOT NULL DEFAULT 'new',   -- new | answering | judging | done | stopped | failed
         job_id INTEGER,
         metrics TEXT,                         -- JSON: scores per model and category, bias figures
         error TEXT,
         created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
         updated_at TEXT
     );
     CREATE TABLE judge_answers (
         id INTEGER PRIMARY KEY,
         run_id INTEGER NOT NULL REFERENCES judge_runs(id),
         model TEXT NOT NULL,
         item_id TEXT NOT NULL,
         answer TEXT NOT NULL,
         valid INTEGER,                        -- syntax validity (evals.validity.check), rubric mode
         findings TEXT,
         created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
         UNIQUE(run_id, model, item_id)
     );"""),
    ("1302_judge_judgment_columns", _judgment_columns),
    ("1303_judge_batches", """
     CREATE TABLE judge_batches (
         id INTEGER PRIMARY KEY,
         run_id INTEGER NOT NULL REFERENCES judge_runs(id),
         marker TEXT NOT NULL UNIQUE,          -- sent as batch metadata: finds a batch created just before a crash
         request_keys TEXT NOT NULL,           -- JSON list; custom_id judge-<i> is the i-th key
         input_file_id TEXT,
         batch_id TEXT,
         status TEXT NOT NULL DEFAULT 'preparing',  -- preparing | submitted | applied | failed
         remote_status TEXT,
         output_file_id TEXT,
         error_file_id TEXT,
         error TEXT,
         created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
         updated_at TEXT
     );"""),
    # A local judge's verdict can be filled by constrained decoding (evals/judge/constrained.py).
    ("1304_judgment_constrained", "ALTER TABLE judgments ADD COLUMN constrained INTEGER"),
    ("2301_judge_answer_engine", lambda db: [db.execute(f"ALTER TABLE judge_answers ADD COLUMN {c} TEXT")
                                             for c in ("engine", "quant")]),
]

RUN_STATUSES = ("new", "answering", "judging", "done", "stopped", "failed")
JUDGMENT_FIELDS = ("item_id", "category", "judge", "mode", "systems", "prompt", "raw", "scores", "reasons",
                   "winner", "swapped", "status", "error", "attempts", "tokens_in", "tokens_out", "cost",
                   "latency_ms", "constrained")
JSON_FIELDS = ("systems", "prompt", "scores", "reasons")


class JudgeMixin(StoreBase):
    # -- suites -----------------------------------------------------------------------------
    def create_judge_suite(self, name: str, items: list[dict], *, source: str | None = None,
                           replace: bool = False) -> dict:
        """Store a suite (already validated by evals.judge.suites) in one transaction."""
        name = (name or "").strip()
        if not name:
            raise StoreError("a judge suite needs a name")
        if not items:
            raise StoreError(f"judge suite {name!r} has no items")
        with self.tx() as db:
            existing = db.execute("SELECT id FROM judge_suites WHERE name=?", [name]).fetchone()
            if existing and not replace:
                raise ConflictError(f"a judge suite named {name!r} already exists (import with replace)")
            if existing:
                used = db.execute("SELECT COUNT(*) FROM judge_runs WHERE suite=?", [name]).fetchone()[0]
                if used:
                    raise ConflictError(f"judge suite {name!r} is used by {used} judged eval(s); import the "
                                        "new version under another name")
                db.execute("DELETE FROM judge_items WHERE suite_id=?", [existing[0]])
                db.execute("DELETE FROM judge_suites WHERE id=?", [existing[0]])
            suite_id = inserted_id(db.table("judge_suites").insert({"name": name, "source": source}))
            db.table("judge_items").insert_all([{"suite_id": suite_id, "item_id": i["id"], "category": i["category"],
                                           "language": i.get("language"), "instruction": i["instruction"],
                                           "reference": i.get("reference"),
                                           # multi-turn questions (evals.judge.multiturn); NULL otherwise
                                           "turns": to_json(i.get("turns")), "refs": to_json(i.get("references"))}
                                          for i in items])
        return self.get_judge_suite(name)

    def get_judge_suite(self, name: str) -> dict:
        rows = self._dicts("SELECT s.*, (SELECT COUNT(*) FROM judge_items i WHERE i.suite_id = s.id) AS items "
                           "FROM judge_suites s WHERE s.name = ?", [name])
        if not rows:
            raise NotFoundError(f"no judge suite named {name!r}; see `python -m evals judge suites`")
        return rows[0]

    def list_judge_suites(self) -> list[dict]:
        return self._dicts("SELECT s.*, (SELECT COUNT(*) FROM judge_items i WHERE i.suite_id = s.id) AS items "
                           "FROM judge_suites s ORDER BY s.name", [])

    def judge_items(self, suite: str) -> list[dict]:
        suite_id = self.get_judge_suite(suite)["id"]
        rows = self._dicts("SELECT item_id AS id, category, language, instruction, reference, turns, refs "
                           "FROM judge_items WHERE suite_id = ? ORDER BY id", [suite_id])
        for row in rows:  # multi-turn fields only where a question has them: older callers see no change
            turns, refs = from_json(row.pop("turns")), from_json(row.pop("refs"))
            if turns:
                row["turns"] = turns
            if refs:
                row["references"] = refs
        return rows

    # -- runs -------------------------------------------------------------------------------
    def create_judge_run(self, suite: str, mode: str, judge: str, contestants: list[str], params: dict,
                         name: str | None = None) -> int:
        self.get_judge_suite(suite)
        with self.tx() as db:
            return inserted_id(db.table("judge_runs").insert({"suite": suite, "mode": mode, "judge": judge, "name": name,
                                            "contestants": to_json(list(contestants)), "params": to_json(params),
                                            "status": "new", "updated_at": now_iso()}))

    def get_judge_run(self, run_id: int) -> dict:
        return _run_row(self.row("judge_runs", int(run_id)))

    def list_judge_runs(self, limit: int = 200) -> list[dict]:
        return [_run_row(r) for r in self.db["judge_runs"].rows_where(order_by="id DESC", limit=limit)]

    def update_judge_run(self, run_id: int, **fields: Any) -> dict:
        allowed = {"status", "job_id", "metrics", "error", "params"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"judge_runs has no field(s) {sorted(unknown)}")
        if fields.get("status") is not None and fields["status"] not in RUN_STATUSES:
            raise StoreError(f"unknown judge run status {fields['status']!r}; one of {', '.join(RUN_STATUSES)}")
        for key in ("metrics", "params"):
            if key in fields:
                fields[key] = to_json(fields[key])
        with self.tx() as db:
            self.row("judge_runs", run_id)
            db.table("judge_runs").update(run_id, dict(fields, updated_at=now_iso()))
        return self.get_judge_run(run_id)

    # -- answers ----------------------------------------------------------------------------
    def add_judge_answers(self, run_id: int, model: str, answers: dict[str, str], *,
                          engine: str | None = None, quant: str | None = None) -> int:
        """Store a contestant's answers (with the engine and quantization that wrote them); an
        answer already stored for (run, model, item) is kept."""
        with self.tx() as db:
            for item_id, text in answers.items():
                db.execute("INSERT OR IGNORE INTO judge_answers (run_id, model, item_id, answer, engine, quant) "
                           "VALUES (?,?,?,?,?,?)", [run_id, model, str(item_id), text or "", engine, quant])
        return len(answers)

    def set_answer_validity(self, run_id: int, model: str, item_id: str, valid: bool, findings: list) -> None:
        with self.tx() as db:
            db.execute("UPDATE judge_answers SET valid=?, findings=? WHERE run_id=? AND model=? AND item_id=?",
                       [int(bool(valid)), to_json(findings), run_id, model, item_id])

    def judge_answers(self, run_id: int) -> dict[tuple[str, str], dict]:
        """(model, item_id) -> answer row."""
        rows = self._dicts("SELECT * FROM judge_answers WHERE run_id=? ORDER BY id", [run_id])
        return {(r["model"], r["item_id"]): dict(r, findings=from_json(r["findings"], [])) for r in rows}

    # -- judgments --------------------------------------------------------------------------
    def record_judgment(self, run_id: int, request_key: str, fields: dict) -> int:
        """Write one judgment; a stored ok row is never overwritten, a failed one (nothing paid) is
        replaced, and an unparseable one (a paid reply, stored before its re-ask) only by a later
        attempt of the same request, whose tokens and cost include it. Returns the row id."""
        row = {k: fields.get(k) for k in JUDGMENT_FIELDS}
        for key in JSON_FIELDS:
            row[key] = to_json(row[key])
        for key in ("swapped", "constrained"):
            if row[key] is not None:
                row[key] = int(bool(row[key]))
        cols = ["run_id", "request_key", *JUDGMENT_FIELDS, "updated_at"]
        updates = ", ".join(f"{c}=excluded.{c}" for c in (*JUDGMENT_FIELDS, "updated_at"))
        with self.tx() as db:
            cur = db.execute(
                f"INSERT INTO judgments ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                f"ON CONFLICT(run_id, request_key) WHERE run_id IS NOT NULL DO UPDATE SET {updates} "
                f"WHERE judgments.status = 'failed' OR (judgments.status = 'unparseable' AND "
                f"excluded.status IN ('ok', 'unparseable') AND excluded.attempts > COALESCE(judgments.attempts, 0)) "
                f"RETURNING id",
                [run_id, request_key, *[row[k] for k in JUDGMENT_FIELDS], now_iso()])
            got = cur.fetchone()
            cur.close()
            if got is None:
                got = db.execute("SELECT id FROM judgments WHERE run_id=? AND request_key=?",
                                 [run_id, request_key]).fetchone()
        return int(got[0])

    def judgments(self, run_id: int, *, status: str | None = None) -> list[dict]:
        where = "run_id = ?"
        args: list[Any] = [run_id]
        if status:
            where += " AND status = ?"
            args.append(status)
        rows = self._dicts(f"SELECT * FROM judgments WHERE {where} ORDER BY id", args)
        for r in rows:
            for key in JSON_FIELDS:
                r[key] = from_json(r[key])
        return rows

    def judged_keys(self, run_id: int) -> set[str]:
        """Request keys with a paid reply stored (ok or unparseable): what a resume skips."""
        return {r[0] for r in self.db.execute(
            "SELECT request_key FROM judgments WHERE run_id=? AND status IN ('ok', 'unparseable')", [run_id])}

    def judge_spend(self, run_id: int) -> dict:
        n, t_in, t_out, cost = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(tokens_in),0), COALESCE(SUM(tokens_out),0), COALESCE(SUM(cost),0) "
            "FROM judgments WHERE run_id=? AND status IN ('ok', 'unparseable')", [run_id]).fetchone()
        return {"judgments": n, "tokens_in": t_in, "tokens_out": t_out, "cost": cost}

    # -- Batch API bookkeeping (same shape as label_batches) ---------------------------------
    def add_judge_batch(self, run_id: int, marker: str, request_keys: list[str]) -> dict:
        with self.tx() as db:
            pk = inserted_id(db.table("judge_batches").insert({"run_id": run_id, "marker": marker, "request_keys": to_json(request_keys),
                                             "updated_at": now_iso()}))
        return self.get_judge_batch(pk)

    def update_judge_batch(self, row_id: int, **fields: Any) -> dict:
        allowed = {"input_file_id", "batch_id", "status", "remote_status", "output_file_id", "error_file_id",
                   "error"}
        if set(fields) - allowed:
            raise StoreError(f"judge_batches has no field(s) {sorted(set(fields) - allowed)}")
        with self.tx() as db:
            db.table("judge_batches").update(row_id, dict(fields, updated_at=now_iso()))
        return self.get_judge_batch(row_id)

    def apply_judge_batch(self, run_id: int, row_id: int, judgments: list[tuple[str, dict]], **fields: Any) -> bool:
        """A finished batch's judgments (each `(request_key, fields)` as `record_judgment` takes
        them) and the row's new `fields` (its status 'applied' or 'failed'), in one transaction.
        Returns False, writing nothing, when the row was applied already: nothing counts twice."""
        with self.tx():
            if self.get_judge_batch(row_id)["status"] not in ("preparing", "submitted"):
                return False
            for key, judgment in judgments:
                self.record_judgment(run_id, key, judgment)
            self.update_judge_batch(row_id, **fields)
        return True

    def get_judge_batch(self, row_id: int) -> dict:
        row = self.row("judge_batches", row_id)
        return dict(row, request_keys=from_json(row["request_keys"], []))

    def judge_batches(self, run_id: int, open_only: bool = False) -> list[dict]:
        where = "run_id = ?" + (" AND status IN ('preparing', 'submitted')" if open_only else "")
        return [dict(r, request_keys=from_json(r["request_keys"], []))
                for r in self.db["judge_batches"].rows_where(where, [run_id], order_by="id")]

    # -- arena votes (read only; written by the chat stage) ----------------------------------
    def vote_tallies(self) -> dict[tuple[str, str], dict]:
        """(model_a, model_b) with a < b -> {a, b, tie, both_bad} over every arena vote: `a` and
        `b` count wins of the pair's first and second model (by name), whatever side each sat on;
        a tie or a "both bad" vote decides nothing and is counted as what it is."""
        out: dict[tuple[str, str], dict] = {}
        try:
            from pipeline.store.arena import COUNTED  # excluded voters' votes do not count

            rows = self.db.execute(f"SELECT model_a, model_b, winner, COUNT(*) FROM votes WHERE {COUNTED} "
                                   "GROUP BY model_a, model_b, winner").fetchall()
        except sqlite3.OperationalError:  # the chat stage reshaped its votes: no agreement figure
            return out
        for a, b, winner, n in rows:
            key, flip = ((a, b), False) if a <= b else ((b, a), True)
            tally = out.setdefault(key, {"a": 0, "b": 0, "tie": 0, "both_bad": 0})
            if winner in ("a", "b"):
                side = winner if not flip else ("b" if winner == "a" else "a")
            else:
                side = winner
            if side in tally:
                tally[side] += n
        return out


def _run_row(row: dict) -> dict:
    return dict(row, contestants=from_json(row["contestants"], []), params=from_json(row["params"], {}),
                metrics=from_json(row["metrics"]))
