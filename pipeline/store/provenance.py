"""Store area: what was scrubbed out of the data and under which licenses it came (issue 26).

Scrub findings are kind + line only (`[{"kind": "email", "line": 3}]`), never the value they
replaced. A snippet's license is its repo's SPDX id when it was extracted. A frozen dataset's
provenance (licenses, repos and commits, languages, origins, scrub totals, labellers and prompt
versions) is computed once at freeze time and kept with the dataset, so a card made later says
what the version was made of, even after repos are re-extracted.
"""
from __future__ import annotations

from collections import Counter

from pipeline.store.base import StoreBase, from_json, to_json

MIGRATIONS: list = [("2601_scrub_and_licenses", """
    ALTER TABLE snippets ADD COLUMN scrub TEXT;       -- JSON [{kind, line}]: what was replaced, never the value
    ALTER TABLE snippets ADD COLUMN license TEXT;     -- the repo's SPDX id when extracted
    ALTER TABLE pairs ADD COLUMN scrub TEXT;          -- JSON [{kind, line, field}] for imported/chat/mined pairs
    ALTER TABLE datasets ADD COLUMN provenance TEXT;  -- JSON frozen with the dataset (see dataset_provenance)
""")]

_CHUNK = 900


class ProvenanceMixin(StoreBase):
    def scrubbed_snippets(self, repo_id: int | None = None, limit: int = 200) -> list[dict]:
        """Snippets that had something replaced, with what (kind and line), for review."""
        where, args = "s.scrub IS NOT NULL AND s.scrub != '[]'", []
        if repo_id:
            where += " AND s.repo_id = ?"
            args.append(int(repo_id))
        cur = self.db.execute(
            f"SELECT s.id, r.full_name, s.path, s.qualname, s.start_line, s.scrub FROM snippets s "
            f"JOIN repos r ON r.id = s.repo_id WHERE {where} ORDER BY s.repo_id, s.path, s.start_line LIMIT ?",
            [*args, limit])
        return [{"id": r[0], "repo": r[1], "path": r[2], "name": r[3], "start_line": r[4],
                 "scrub": from_json(r[5], [])} for r in cur.fetchall()]

    def snippet_scrub(self, snippet_id: int) -> list[dict]:
        row = self.db.execute("SELECT scrub FROM snippets WHERE id = ?", [int(snippet_id)]).fetchone()
        return from_json(row[0], []) if row else []

    def unscanned_snippets(self, limit: int = 500) -> list[dict]:
        """Snippets stored before the scrub pass existed (scrub IS NULL), oldest first."""
        cur = self.db.execute("SELECT id, repo_id, path, qualname, name, start_line, code, docstring FROM snippets "
                              "WHERE scrub IS NULL ORDER BY id LIMIT ?", [int(limit)])
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def apply_snippet_scrub(self, cleaned: list[dict], held: list[dict]) -> dict:
        """Write the scrub pass's result over old snippets: cleaned rows replace their text; a held
        snippet is deleted, or, when pairs point to it, its code becomes a marker saying why."""
        deleted = marked = 0
        with self.tx() as db:
            for r in cleaned:
                db.execute("UPDATE snippets SET code = ?, docstring = ?, content_hash = ?, tokens = ?, scrub = ? "
                           "WHERE id = ?", [r["code"], r["docstring"], r["content_hash"], r["tokens"], r["scrub"], r["id"]])
            for h in held:
                if db.execute("SELECT 1 FROM pairs WHERE snippet_id = ? LIMIT 1", [h["id"]]).fetchone():
                    db.execute("UPDATE snippets SET code = ?, docstring = NULL, scrub = ? WHERE id = ?",
                               [f"<HELD BACK: {h['reason']}>", to_json([{"kind": "held", "line": h.get("line") or 0}]),
                                h["id"]])
                    marked += 1
                else:
                    db.execute("DELETE FROM snippets WHERE id = ?", [h["id"]])
                    deleted += 1
        return {"rescrubbed": len(cleaned), "held_deleted": deleted, "held_marked": marked}

    def purge_freed_pages(self) -> bool:
        """Rewrite the file so replaced text survives nowhere: SQLite keeps old values in freed pages
        and in the WAL until a checkpoint. False when another connection kept the WAL busy."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy

    def pair_scrub(self, pair_id: int) -> list[dict]:
        """What was replaced in a pair: its own findings (import/chat/commit) and its snippet's."""
        row = self.db.execute("SELECT p.scrub, s.scrub FROM pairs p LEFT JOIN snippets s ON s.id = p.snippet_id "
                              "WHERE p.id = ?", [int(pair_id)]).fetchone()
        if not row:
            return []
        return list(from_json(row[0], [])) + [{**f, "field": "snippet"} for f in from_json(row[1], [])]

    def set_pair_scrub(self, pair_id: int, findings: list[dict]) -> None:
        with self.tx() as db:
            db.execute("UPDATE pairs SET scrub = ? WHERE id = ?", [to_json(findings), int(pair_id)])

    def chat_question(self, message_id: int) -> str:
        """The user's message an answer replies to ('' when there is none)."""
        row = self.db.execute("SELECT q.content FROM messages a JOIN messages q ON q.chat_id = a.chat_id "
                              "AND q.turn = a.turn AND q.role = 'user' WHERE a.id = ? ORDER BY q.id LIMIT 1",
                              [int(message_id)]).fetchone()
        return row[0] if row else ""

    def scrub_totals(self) -> dict:
        """{kind: count} over every snippet and pair, and how many rows were touched."""
        kinds: Counter = Counter()
        rows = 0
        for table in ("snippets", "pairs"):
            for (scrub,) in self.db.execute(f"SELECT scrub FROM {table} WHERE scrub IS NOT NULL AND scrub != '[]'"):
                rows += 1
                kinds.update(f["kind"] for f in from_json(scrub, []))
        return {"replaced": dict(kinds), "rows": rows}

    def compute_provenance(self, pair_ids: list[int]) -> dict:
        """Where a selection of pairs came from: licenses, repos@commits, languages, origins,
        scrub figures, labellers and prompt versions (counts per value)."""
        licenses, languages, origins, labellers, prompts, kinds = (Counter[str]() for _ in range(6))
        repos: dict[str, dict] = {}
        scrubbed = 0
        ids = [int(p) for p in pair_ids]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            cur = self.db.execute(
                "SELECT p.origin, p.language, p.labeller, p.prompt_version, p.scrub, s.scrub, "
                "COALESCE(s.license, r.license), r.full_name, r.url, COALESCE(p.commit_sha, r.commit_sha) "
                "FROM pairs p LEFT JOIN snippets s ON s.id = p.snippet_id "
                "LEFT JOIN repos r ON r.id = COALESCE(s.repo_id, p.repo_id) "
                f"WHERE p.id IN ({','.join('?' * len(chunk))})", chunk)
            for origin, language, labeller, prompt, p_scrub, s_scrub, lic, repo, url, sha in cur.fetchall():
                origins[origin] += 1
                languages[language or "unknown"] += 1
                if labeller:
                    labellers[labeller] += 1
                if prompt:
                    prompts[prompt] += 1
                found = from_json(p_scrub, []) + from_json(s_scrub, [])
                scrubbed += bool(found)
                kinds.update(f["kind"] for f in found)
                if repo:
                    licenses[lic or "unknown"] += 1
                    entry = repos.setdefault(repo, {"repo": repo, "url": url, "license": lic or "unknown",
                                                    "commits": set(), "pairs": 0})
                    entry["pairs"] += 1
                    if sha and origin != "commit":
                        entry["commits"].add(sha)
                else:
                    licenses["none (" + origin + ")"] += 1
        return {
            "licenses": dict(licenses), "languages": dict(languages), "origins": dict(origins),
            "labellers": dict(labellers), "prompt_versions": dict(prompts),
            "repos": [{**r, "commits": sorted(r["commits"])} for r in sorted(repos.values(), key=lambda r: r["repo"])],
            "scrub": {"pairs_with_replacements": scrubbed, "replaced": dict(kinds)},
        }

    def pair_sources(self, pair_ids: list[int]) -> dict[int, dict]:
        """pair id -> {source: 'owner/name@sha', license} for pairs that came from a repo."""
        out: dict[int, dict] = {}
        ids = [int(p) for p in pair_ids]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            for pid, lic, name, sha in self.db.execute(
                    "SELECT p.id, COALESCE(s.license, r.license), r.full_name, COALESCE(p.commit_sha, r.commit_sha) "
                    "FROM pairs p LEFT JOIN snippets s ON s.id = p.snippet_id "
                    "JOIN repos r ON r.id = COALESCE(s.repo_id, p.repo_id) "
                    f"WHERE p.id IN ({','.join('?' * len(chunk))})", chunk):
                out[pid] = {"source": f"{name}@{sha[:12]}" if sha else name, "license": lic}
        return out

    def set_dataset_provenance(self, dataset_id: int, provenance: dict) -> None:
        with self.tx() as db:
            db.execute("UPDATE datasets SET provenance = ? WHERE id = ?", [to_json(provenance), int(dataset_id)])

    def dataset_provenance(self, dataset_id: int) -> dict:
        """The provenance frozen with the dataset; computed now for a dataset frozen before it existed."""
        row = self.db.execute("SELECT provenance, pair_ids FROM datasets WHERE id = ?", [int(dataset_id)]).fetchone()
        if row and row[0]:
            return dict(from_json(row[0], {}))
        return self.compute_provenance(from_json(row[1], []) if row else [])
