"""Prompt templates, prices and labelled pairs written by pipeline.label.labeller.

Idempotency: a labelled pair is keyed by (snippet, prompt version, labeller) with a UNIQUE index,
so a resumed or repeated run can never write a second pair for the same key. A result and its
ledger row (`label_calls`: what each paid reply cost) are written together in one transaction,
the moment the reply arrives, so a crash loses at most the replies still on the wire.
"""
from __future__ import annotations

import string
from typing import Any

from sqlite_utils import Database

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json, inserted_id, now_iso, to_json

# $ per million tokens (input, output) and the Batch API discount (fraction off). Public list
# prices when this was written; editable in the Label tab or `python -m pipeline label prices set`.
DEFAULT_PRICES = [
    ("gpt-4o-mini", 0.15, 0.60, 0.5), ("gpt-4o", 2.50, 10.00, 0.5),
    ("gpt-4.1", 2.00, 8.00, 0.5), ("gpt-4.1-mini", 0.40, 1.60, 0.5),
    ("gpt-4.1-nano", 0.10, 0.40, 0.5), ("gpt-5", 1.25, 10.00, 0.5),
    ("gpt-5-mini", 0.25, 2.00, 0.5), ("gpt-5-nano", 0.05, 0.40, 0.5),
    ("o4-mini", 1.10, 4.40, 0.5), ("o3-mini", 1.10, 4.40, 0.5),
    ("gpt-4-turbo", 10.00, 30.00, 0.5), ("gpt-3.5-turbo", 0.50, 1.50, 0.5),
    ("SmolLM2-135M-Instruct", 0.0, 0.0, 0.0), ("docstring", 0.0, 0.0, 0.0),
]


def _seed_prices(db: Database) -> None:
    for model, price_in, price_out, discount in DEFAULT_PRICES:
        db.execute("INSERT OR IGNORE INTO prices VALUES (?, ?, ?, ?)", [model, price_in, price_out, discount])


def _seed_prompts(db: Database) -> None:
    from pipeline.label.prompts import DEFAULT_TEMPLATES

    for t in DEFAULT_TEMPLATES:
        db.execute("INSERT OR IGNORE INTO prompt_templates (name, version, purpose, system, template) "
                   "VALUES (?, ?, ?, ?, ?)", [t["name"], t["version"], t["purpose"], t["system"], t["template"]])


# Schema steps this area adds on top of schema.INITIAL: (unique name, sql or callable(db)).
MIGRATIONS: list = [
    ("0401_labels_pair_key",
     "CREATE UNIQUE INDEX pairs_label_key ON pairs(snippet_id, prompt_version, labeller) "
     "WHERE origin IN ('label', 'docstring');"),
    ("0402_labels_calls", """
     CREATE TABLE label_calls (
         id INTEGER PRIMARY KEY,
         job_id INTEGER,
         snippet_id INTEGER,
         pair_id INTEGER,
         labeller TEXT NOT NULL,
         prompt_version TEXT NOT NULL,
         outcome TEXT NOT NULL,                  -- ok | rejected (paid for, reply unusable)
         batch INTEGER NOT NULL DEFAULT 0,
         tokens_in INTEGER NOT NULL DEFAULT 0,
         tokens_out INTEGER NOT NULL DEFAULT 0,
         cost REAL NOT NULL DEFAULT 0,
         at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
     );
     CREATE INDEX label_calls_job ON label_calls(job_id);"""),
    ("0403_labels_batches", """
     CREATE TABLE label_batches (
         id INTEGER PRIMARY KEY,
         job_id INTEGER,
         labeller TEXT NOT NULL,
         prompt_version TEXT NOT NULL,
         marker TEXT NOT NULL UNIQUE,            -- sent as batch metadata: finds a batch created just before a crash
         snippet_ids TEXT NOT NULL,              -- JSON list, the order of the JSONL lines
         input_file_id TEXT,
         batch_id TEXT,
         status TEXT NOT NULL DEFAULT 'preparing',  -- preparing | submitted | applied | failed
         remote_status TEXT,
         output_file_id TEXT,
         error_file_id TEXT,
         error TEXT,
         created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
         updated_at TEXT
     );
     CREATE INDEX label_batches_job ON label_batches(job_id);"""),
    ("0404_labels_seed_prices", _seed_prices),
    ("0405_labels_seed_prompts", _seed_prompts),
]

SNIPPET_SELECT = ("SELECT s.id, s.repo_id, s.path, s.language, s.kind, s.name, s.class_name, s.code, "
                  "s.docstring, r.full_name AS repo, r.engine_version FROM snippets s "
                  "LEFT JOIN repos r ON r.id = s.repo_id WHERE ")
PAIR_COLUMNS = ("instruction", "input", "output", "origin", "snippet_id", "repo_id", "path", "language",
                "status", "labeller", "prompt_version", "raw_reply", "tokens_in", "tokens_out", "cost",
                "latency_ms", "error")


class LabelsMixin(StoreBase):
    # -- prompt templates -------------------------------------------------------------------
    def list_prompt_templates(self, purpose: str | None = "label") -> list[dict]:
        where, args = ("purpose = ?", [purpose]) if purpose else (None, [])
        return list(self.db["prompt_templates"].rows_where(where, args, order_by="name, version"))

    def get_prompt_template(self, name: str, version: int | None = None) -> dict:
        sql = "SELECT * FROM prompt_templates WHERE name = ?" + (" AND version = ?" if version else "")
        rows = self.db.execute(sql + " ORDER BY version DESC LIMIT 1",
                               [name, version] if version else [name]).fetchall()
        if not rows:
            what = f"{name}@{version}" if version else name
            raise NotFoundError(f"no prompt template {what!r}; see `python -m pipeline label prompts list`")
        cols = [c.name for c in self.db["prompt_templates"].columns]
        return dict(zip(cols, rows[0]))

    def save_prompt_template(self, name: str, template: str, system: str | None = None,
                             purpose: str = "label", allowed_fields: tuple[str, ...] | None = None) -> dict:
        """Store an edit as the next version of `name` (versions are never overwritten); saving
        the latest version's own text again returns that version instead of a duplicate."""
        name = (name or "").strip()
        if not name or "@" in name:
            raise StoreError("a prompt template needs a name without '@'")
        if not (template or "").strip():
            raise StoreError("the prompt template is empty")
        _check_fields(template, allowed_fields)
        if system:
            _check_fields(system, allowed_fields)
        with self.tx() as db:
            latest = db.execute("SELECT version, template, system FROM prompt_templates WHERE name = ? "
                                "ORDER BY version DESC LIMIT 1", [name]).fetchone()
            if latest and (latest[1], latest[2] or None) == (template, system or None):
                return self.get_prompt_template(name, latest[0])
            db.table("prompt_templates").insert({"name": name, "version": (latest[0] if latest else 0) + 1,
                                           "purpose": purpose, "system": system or None, "template": template})
        return self.get_prompt_template(name)

    # -- prices -----------------------------------------------------------------------------
    def list_prices(self) -> list[dict]:
        return list(self.db["prices"].rows_where(order_by="model"))

    def get_price(self, model: str) -> dict | None:
        row = self.db.execute("SELECT * FROM prices WHERE model = ?", [model]).fetchone()
        return dict(zip(("model", "input_per_mtok", "output_per_mtok", "batch_discount"), row)) if row else None

    def set_price(self, model: str, input_per_mtok: float, output_per_mtok: float,
                  batch_discount: float = 0.5) -> dict:
        model = (model or "").strip()
        if not model:
            raise StoreError("a price needs a model name")
        try:
            values = [float(input_per_mtok), float(output_per_mtok), float(batch_discount)]
        except (TypeError, ValueError):
            raise StoreError(f"prices for {model!r} must be numbers") from None
        if min(values) < 0 or values[2] >= 1:
            raise StoreError(f"prices for {model!r} must be >= 0 and the batch discount in [0, 1)")
        with self.tx() as db:
            db.execute("INSERT INTO prices VALUES (?, ?, ?, ?) ON CONFLICT(model) DO UPDATE SET "
                       "input_per_mtok=excluded.input_per_mtok, output_per_mtok=excluded.output_per_mtok, "
                       "batch_discount=excluded.batch_discount", [model, *values])
        price = self.get_price(model)
        assert price is not None  # written just above
        return price

    def delete_price(self, model: str) -> None:
        with self.tx() as db:
            if db.execute("DELETE FROM prices WHERE model = ?", [model]).rowcount == 0:
                raise NotFoundError(f"no price for {model!r}")

    # -- choosing what to label -------------------------------------------------------------
    def snippets_for_labelling(self, labeller: str, prompt_version: str, *, language: str | None = None,
                               repo: str | None = None, limit: int | None = None,
                               failed_only: bool = False, need_docstring: bool = False,
                               exclude_ids: set[int] | None = None) -> list[dict]:
        """Snippets with no pair yet for this key (or only those whose pair failed), oldest first.

        Snippets marked as duplicates of another are left out: labelling them pays twice for one pair.
        """
        where = ["s.duplicate_of IS NULL"]
        args: list = []
        key = "p.snippet_id = s.id AND p.labeller = ? AND p.prompt_version = ? AND p.origin IN ('label','docstring')"
        if failed_only:
            where.append(f"EXISTS (SELECT 1 FROM pairs p WHERE {key} AND p.status = 'failed')")
        else:
            where.append(f"NOT EXISTS (SELECT 1 FROM pairs p WHERE {key})")
        args += [labeller, prompt_version]
        if language:
            where.append("lower(s.language) = lower(?)")
            args.append(language.strip())
        if repo:
            repo = str(repo).strip()
            where.append("(r.full_name = ? OR CAST(r.id AS TEXT) = ?)")
            args += [repo, repo]
        if need_docstring:
            where.append("trim(coalesce(s.docstring, '')) != ''")
        sql = SNIPPET_SELECT + " AND ".join(where) + " ORDER BY s.id"
        if limit and not exclude_ids:
            return self._dicts(sql + " LIMIT ?", args + [int(limit)])
        rows = [r for r in self._dicts(sql, args) if r["id"] not in (exclude_ids or ())]
        return rows[:limit] if limit else rows

    def snippets_by_id(self, ids: list[int]) -> dict[int, dict]:
        """The snippets (with repo name and engine version) for these ids; missing ids are absent."""
        found: dict[int, dict] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            rows = self._dicts(SNIPPET_SELECT + f"s.id IN ({','.join('?' * len(chunk))})", chunk)
            found.update((r["id"], r) for r in rows)
        return found

    # -- writing results --------------------------------------------------------------------
    def record_label(self, pair: dict, call: dict | None = None) -> int:
        """Write one labelled (or failed) pair and, when a reply was paid for, its ledger row.

        A new result replaces an earlier *failed* pair for the same key (that is what retry
        does); a pair that succeeded or that a person has since touched is never overwritten.
        Returns the pair id.
        """
        row = {c: pair.get(c) for c in PAIR_COLUMNS}
        row["input"] = row["input"] or ""
        row["instruction"] = row["instruction"] or ""
        cols = ", ".join(PAIR_COLUMNS)
        updates = ", ".join(f"{c}=excluded.{c}" for c in PAIR_COLUMNS if c not in ("snippet_id", "labeller",
                                                                                  "prompt_version"))
        with self.tx() as db:
            cur = db.execute(
                f"INSERT INTO pairs ({cols}, updated_at) VALUES ({', '.join('?' * len(PAIR_COLUMNS))}, ?) "
                f"ON CONFLICT(snippet_id, prompt_version, labeller) WHERE origin IN ('label', 'docstring') "
                f"DO UPDATE SET {updates}, updated_at=excluded.updated_at, revision=pairs.revision+1 "
                f"WHERE pairs.status = 'failed' RETURNING id",
                [row[c] for c in PAIR_COLUMNS] + [now_iso()])
            got = cur.fetchone()
            cur.close()
            if got is None:  # a good pair already holds this key: keep it
                got = db.execute("SELECT id FROM pairs WHERE snippet_id=? AND prompt_version=? AND labeller=? "
                                 "AND origin IN ('label','docstring')",
                                 [row["snippet_id"], row["prompt_version"], row["labeller"]]).fetchone()
            pair_id: int = got[0]
            if call is not None:
                db.table("label_calls").insert({
                    "job_id": call.get("job_id"), "snippet_id": row["snippet_id"], "pair_id": pair_id,
                    "labeller": row["labeller"], "prompt_version": row["prompt_version"],
                    "outcome": call.get("outcome", "ok"), "batch": int(bool(call.get("batch"))),
                    "tokens_in": call.get("tokens_in") or 0, "tokens_out": call.get("tokens_out") or 0,
                    "cost": call.get("cost") or 0.0})
        return pair_id

    def failed_labels(self, labeller: str | None = None, prompt_version: str | None = None,
                      limit: int = 500) -> list[dict]:
        where, args = ["status = 'failed'", "origin IN ('label','docstring')"], []
        if labeller:
            where.append("labeller = ?")
            args.append(labeller)
        if prompt_version:
            where.append("prompt_version = ?")
            args.append(prompt_version)
        return self._dicts("SELECT id, snippet_id, language, path, labeller, prompt_version, error, raw_reply, "
                           "updated_at FROM pairs WHERE " + " AND ".join(where) + " ORDER BY id LIMIT ?",
                           args + [limit])

    def label_spend(self, job_id: int | None = None) -> dict:
        """Requests, tokens and $ paid (per job, or in total), from the ledger."""
        where, args = ("WHERE job_id = ?", [job_id]) if job_id is not None else ("", [])
        n, t_in, t_out, cost = self.db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(tokens_in),0), COALESCE(SUM(tokens_out),0), "
            f"COALESCE(SUM(cost),0) FROM label_calls {where}", args).fetchone()
        return {"requests": n, "tokens_in": t_in, "tokens_out": t_out, "cost": cost}

    # -- Batch API bookkeeping --------------------------------------------------------------
    def add_label_batch(self, job_id: int | None, labeller: str, prompt_version: str, marker: str,
                        snippet_ids: list[int]) -> dict:
        with self.tx() as db:
            pk = inserted_id(db.table("label_batches").insert({"job_id": job_id, "labeller": labeller, "prompt_version": prompt_version,
                                             "marker": marker, "snippet_ids": to_json(snippet_ids),
                                             "updated_at": now_iso()}))
        return self.get_label_batch(pk)

    def update_label_batch(self, batch_row_id: int, **fields: Any) -> dict:
        allowed = {"job_id", "input_file_id", "batch_id", "status", "remote_status", "output_file_id",
                   "error_file_id", "error"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"label_batches has no field(s) {sorted(unknown)}")
        with self.tx() as db:
            db.table("label_batches").update(batch_row_id, dict(fields, updated_at=now_iso()))
        return self.get_label_batch(batch_row_id)

    def apply_label_batch(self, batch_row_id: int, labels: list[tuple[dict, dict | None]], **fields: Any) -> bool:
        """A finished batch's labels (each `(pair, call)` as `record_label` takes them) and the
        row's new `fields` (its status 'applied' or 'failed'), in one transaction. Returns False,
        writing nothing, when the row was applied already (by another job): its results and costs
        are counted once."""
        with self.tx():
            if self.get_label_batch(batch_row_id)["status"] not in ("preparing", "submitted"):
                return False
            for pair, call in labels:
                self.record_label(pair, call)
            self.update_label_batch(batch_row_id, **fields)
        return True

    def get_label_batch(self, batch_row_id: int) -> dict:
        row = self.row("label_batches", batch_row_id)
        row["snippet_ids"] = from_json(row["snippet_ids"], [])
        return row

    def label_batches(self, job_id: int | None = None, *, open_only: bool = False,
                      labeller: str | None = None, prompt_version: str | None = None) -> list[dict]:
        where, args = [], []
        for col, value in (("job_id", job_id), ("labeller", labeller), ("prompt_version", prompt_version)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        if open_only:
            where.append("status IN ('preparing', 'submitted')")
        rows = self.db["label_batches"].rows_where(" AND ".join(where) or None, args, order_by="id")
        return [dict(r, snippet_ids=from_json(r["snippet_ids"], [])) for r in rows]



def _check_fields(text: str, allowed: tuple[str, ...] | None) -> None:
    """Refuse a template whose {fields} cannot be filled, with the offending name in the message."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise StoreError(f"the prompt template cannot be parsed ({exc}); write a literal brace as {{{{ or }}}}") from None
    if allowed is None:
        return
    for name in names:
        base = name.split(".")[0].split("[")[0]
        if base not in allowed:
            raise StoreError(f"the prompt template uses {{{name}}}, which is not a known field; "
                             f"use any of {', '.join('{' + a + '}' for a in allowed)}")
