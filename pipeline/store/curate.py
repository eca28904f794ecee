"""Repos and snippets (pipeline.curate.github, fetch, extract, commits) and commit pairs they make."""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json, inserted_id, now_iso, to_json

# Schema steps this area adds on top of schema.INITIAL: (unique name, sql or callable(db)).
MIGRATIONS: list = [
    ("0301_curate_columns", """
        ALTER TABLE repos ADD COLUMN clone_url TEXT;      -- what git fetches (file:// for local)
        ALTER TABLE repos ADD COLUMN subdir TEXT;         -- only this folder of the repo is extracted
        ALTER TABLE repos ADD COLUMN topics TEXT;         -- JSON list from GitHub
        ALTER TABLE repos ADD COLUMN repo_created_at TEXT;
        ALTER TABLE snippets ADD COLUMN qualname TEXT;    -- Class.method / outer.inner
        CREATE INDEX repos_status ON repos(status);
        CREATE INDEX pairs_commit_ref ON pairs(repo_id, commit_sha, path);
    """),
]

REPO_COLUMNS = ("source", "full_name", "url", "clone_url", "license", "language", "stars", "size_kb",
                "description", "default_branch", "pushed_at", "repo_created_at", "topics",
                "commit_sha", "engine_version", "local_path", "subdir", "status", "error", "stats")
SNIPPET_COLUMNS = ("path", "language", "kind", "name", "qualname", "class_name", "code", "docstring",
                   "start_line", "end_line", "lines", "content_hash", "tokens", "scrub", "license")
LENGTH_BUCKETS = ((1, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 200), (201, None))


def _repo(row: dict) -> dict:
    row["stats"] = from_json(row.get("stats"), {})
    row["topics"] = from_json(row.get("topics"), [])
    return row


class CurateMixin(StoreBase):
    # -- repos --------------------------------------------------------------------------------
    def add_repos(self, records: list[dict]) -> tuple[list[int], list[str]]:
        """Insert repos not seen before (by url); return (new ids, full names already present)."""
        added, present = [], []
        with self.tx() as db:
            for rec in records:
                if db.execute("SELECT 1 FROM repos WHERE url=?", [rec["url"]]).fetchone():
                    present.append(rec["full_name"])
                    continue
                row = {k: rec[k] for k in REPO_COLUMNS if k in rec}
                row["topics"] = to_json(rec.get("topics") or [])
                row["stats"] = to_json(rec.get("stats") or {})
                row.setdefault("status", "new")
                row["updated_at"] = now_iso()
                added.append(inserted_id(db.table("repos").insert(row)))
        return added, present

    def get_repo(self, repo_id: int) -> dict:
        return _repo(self.row("repos", repo_id))

    def find_repo(self, key: str | int) -> dict:
        """A repo by id, url or full name; NotFoundError says what was looked for."""
        if isinstance(key, int) or str(key).isdigit():
            return self.get_repo(int(key))
        rows = list(self.db["repos"].rows_where("url = ? OR full_name = ?", [key, key], limit=2))
        if not rows:
            raise NotFoundError(f"no repo {key!r} in the store (see `python -m pipeline curate repos`)")
        if len(rows) > 1:
            raise StoreError(f"{key!r} names more than one repo; use its id")
        return _repo(rows[0])

    def list_repos(self, status: str | None = None, limit: int = 500, offset: int = 0) -> list[dict]:
        where, args = ("status = ?", [status]) if status else (None, [])
        return [_repo(r) for r in self.db["repos"].rows_where(
            where, args, order_by="id", limit=limit, offset=offset)]

    def curated_urls(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT url FROM repos")}

    def update_repo(self, repo_id: int, **fields: Any) -> dict:
        unknown = set(fields) - set(REPO_COLUMNS)
        if unknown:
            raise StoreError(f"unknown repo fields: {', '.join(sorted(unknown))}")
        if "stats" in fields:
            fields["stats"] = to_json(fields["stats"])
        if "topics" in fields:
            fields["topics"] = to_json(fields["topics"])
        fields["updated_at"] = now_iso()
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM repos WHERE id=?", [repo_id]).fetchone():
                raise NotFoundError(f"repos {repo_id} not found")
            db.table("repos").update(repo_id, fields)
        return self.get_repo(repo_id)

    def merge_repo_stats(self, repo_id: int, **stats: Any) -> dict:
        """Update some keys of a repo's stats JSON, keeping the others (extract vs mine)."""
        with self.tx():
            merged = {**self.get_repo(repo_id)["stats"], **stats}
            return self.update_repo(repo_id, stats=merged)

    def repos_to_curate(self, ids: list[int] | None = None, statuses: tuple[str, ...] | None = None) -> list[dict]:
        if ids:
            missing = [i for i in ids if not self.db.execute("SELECT 1 FROM repos WHERE id=?", [i]).fetchone()]
            if missing:
                raise NotFoundError(f"no repos with ids {', '.join(map(str, missing))}")
            return [self.get_repo(i) for i in ids]
        if statuses:
            marks = ",".join("?" * len(statuses))
            return [_repo(r) for r in self.db["repos"].rows_where(
                f"status IN ({marks})", list(statuses), order_by="id")]
        return self.list_repos(limit=1_000_000)

    # -- snippets -----------------------------------------------------------------------------
    def replace_snippets(self, repo_id: int, rows: list[dict]) -> dict:
        """Make `rows` the repo's snippets. Snippets that pairs already point to are kept (not
        duplicated); exact duplicates (same content hash, any repo) point to the first one."""
        with self.tx() as db:
            kept = {(r[0], r[1]) for r in db.execute(
                "SELECT path, content_hash FROM snippets WHERE repo_id=? AND id IN "
                "(SELECT snippet_id FROM pairs WHERE snippet_id IS NOT NULL)", [repo_id])}
            old_hashes = {r[0] for r in db.execute(
                "SELECT content_hash FROM snippets WHERE repo_id=?", [repo_id])}
            db.execute("DELETE FROM snippets WHERE repo_id=? AND id NOT IN "
                       "(SELECT snippet_id FROM pairs WHERE snippet_id IS NOT NULL)", [repo_id])
            new: list[dict[str, Any]] = [{**{k: r.get(k) for k in SNIPPET_COLUMNS}, "repo_id": repo_id}
                   for r in rows if (r["path"], r["content_hash"]) not in kept]
            if new:
                db.table("snippets").insert_all(new, batch_size=500)
            hashes = old_hashes | {r["content_hash"] for r in new}
            self._relink_duplicates(db, hashes)
            dups = db.execute("SELECT COUNT(*) FROM snippets WHERE repo_id=? AND duplicate_of IS NOT NULL",
                              [repo_id]).fetchone()[0]
        return {"inserted": len(new), "kept_in_use": len(kept), "duplicates": dups}

    @staticmethod
    def _relink_duplicates(db: Database, hashes: set[str]) -> None:
        ordered = list(hashes)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i:i + 500]
            db.execute(
                "UPDATE snippets SET duplicate_of = (SELECT MIN(s2.id) FROM snippets s2 WHERE "
                "s2.content_hash = snippets.content_hash AND s2.id < snippets.id) "
                f"WHERE content_hash IN ({','.join('?' * len(chunk))})", chunk)

    def get_snippet(self, snippet_id: int) -> dict:
        return self.row("snippets", snippet_id)

    def list_snippets(self, *, repo_id: int | None = None, language: str | None = None,
                      kind: str | None = None, name: str | None = None, unique_only: bool = False,
                      limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        """One page of snippets (newest repo first, then file order) and the total matching."""
        where, args = [], []
        for column, value in (("s.repo_id", repo_id), ("s.language", language), ("s.kind", kind)):
            if value not in (None, ""):
                where.append(f"{column} = ?")
                args.append(value)
        if name:
            where.append("(s.name LIKE ? OR s.qualname LIKE ?)")
            args += [f"%{name}%", f"%{name}%"]
        if unique_only:
            where.append("s.duplicate_of IS NULL")
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM snippets s {clause}", args).fetchone()[0]
        cursor = self.db.execute(
            f"SELECT s.id, s.repo_id, r.full_name AS repo, s.path, s.language, s.kind, s.qualname, "
            f"s.name, s.class_name, s.start_line, s.end_line, s.lines, s.tokens, s.duplicate_of "
            f"FROM snippets s JOIN repos r ON r.id = s.repo_id {clause} "
            f"ORDER BY s.repo_id DESC, s.path, s.start_line LIMIT ? OFFSET ?", [*args, limit, offset])
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()], total

    def snippet_counts(self) -> dict:
        """Counts for the plots: by language, and by length in lines (LENGTH_BUCKETS)."""
        by_language = self.db.execute(
            "SELECT language, COUNT(*) FROM snippets GROUP BY language ORDER BY 2 DESC").fetchall()
        by_length = []
        for lo, hi in LENGTH_BUCKETS:
            if hi is None:
                n = self.db.execute("SELECT COUNT(*) FROM snippets WHERE lines >= ?", [lo]).fetchone()[0]
                label = f"{lo}+"
            else:
                n = self.db.execute("SELECT COUNT(*) FROM snippets WHERE lines BETWEEN ? AND ?",
                                    [lo, hi]).fetchone()[0]
                label = f"{lo}-{hi}"
            by_length.append((label, n))
        return {"by_language": [tuple(r) for r in by_language], "by_length": by_length}

    # -- commit pairs -------------------------------------------------------------------------
    def add_commit_pairs(self, repo_id: int, rows: list[dict]) -> int:
        """Insert CommitPackFT-style pairs (origin 'commit'); a commit/path already stored is skipped."""
        inserted = 0
        with self.tx() as db:
            for r in rows:
                if db.execute("SELECT 1 FROM pairs WHERE origin='commit' AND repo_id=? AND commit_sha=? "
                              "AND path=?", [repo_id, r["commit_sha"], r["path"]]).fetchone():
                    continue
                db.table("pairs").insert({
                    "instruction": r["instruction"], "input": r["input"], "output": r["output"],
                    "origin": "commit", "repo_id": repo_id, "commit_sha": r["commit_sha"],
                    "path": r["path"], "language": r["language"], "status": "draft",
                    "scrub": r.get("scrub"), "updated_at": now_iso(),
                })
                inserted += 1
        return inserted

    def curate_summary(self) -> dict:
        statuses = dict(self.db.execute("SELECT status, COUNT(*) FROM repos GROUP BY status").fetchall())

        def one(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        return {
            "repos": sum(statuses.values()), "repos_by_status": statuses,
            "snippets": one("SELECT COUNT(*) FROM snippets"),
            "unique_snippets": one("SELECT COUNT(*) FROM snippets WHERE duplicate_of IS NULL"),
            "commit_pairs": one("SELECT COUNT(*) FROM pairs WHERE origin='commit'"),
        }
