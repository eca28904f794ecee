"""Store area: lineage reads — which rows fed which, across every stage (issue 15).

Read-only joins over the tables other areas own: evals and judge runs name a model; a checkpoint's
`models` row names its run; a run names its frozen dataset; a dataset's snapshot names its pairs;
a pair names its snippet, repo and commit; a snippet names its repo. Each method answers one hop,
in either direction, so `pipeline.lineage` can walk the chain a level at a time.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.store.base import StoreBase, from_json

MIGRATIONS: list = [("1501_lineage_indexes", """
    CREATE INDEX IF NOT EXISTS dataset_examples_pair ON dataset_examples(pair_id);
    CREATE INDEX IF NOT EXISTS pairs_snippet ON pairs(snippet_id);
    CREATE INDEX IF NOT EXISTS pairs_repo ON pairs(repo_id);
    CREATE INDEX IF NOT EXISTS models_run ON models(run_id);
    CREATE INDEX IF NOT EXISTS evals_model ON evals(model);
""")]


def _marks(ids: Sequence[object]) -> str:
    return ",".join("?" * len(ids))


class LineageMixin(StoreBase):
    def _rows(self, sql: str, args: Iterable = ()) -> list[dict]:
        cursor = self.db.execute(sql, list(args))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]

    # -- upstream: from a score back to the code -----------------------------------------------
    def lineage_model(self, name: str) -> dict | None:
        rows = self._rows("SELECT id, name, kind, path, base, template, run_id, meta FROM models WHERE name=?", [name])
        if not rows:
            return None
        rows[0]["meta"] = from_json(rows[0]["meta"], {})
        return rows[0]

    def lineage_run(self, run_id: int) -> dict | None:
        rows = self._rows("SELECT id, name, status, base_model, method, dataset_id, dataset, dataset_version, "
                          "template, config, step, total_steps, parent_run_id FROM runs WHERE id=?", [run_id])
        if not rows:
            return None
        rows[0]["config"] = from_json(rows[0]["config"], {})
        return rows[0]

    def lineage_dataset(self, dataset_id: int) -> dict | None:
        rows = self._rows("SELECT id, name, version, template, filter, created_at, "
                          "(SELECT count(*) FROM dataset_examples e WHERE e.dataset_id = d.id) AS size, "
                          "(SELECT count(*) FROM dataset_examples e WHERE e.dataset_id = d.id AND e.split = 'test') "
                          "AS test_size "
                          "FROM datasets d WHERE id=?", [dataset_id])
        return rows[0] if rows else None

    def lineage_dataset_pairs(self, dataset_id: int) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT pair_id FROM dataset_examples WHERE dataset_id=? ORDER BY position", [dataset_id])]

    def lineage_pairs(self, pair_ids: list[int]) -> list[dict]:
        if not pair_ids:
            return []
        return self._rows(f"SELECT id, origin, status, language, snippet_id, repo_id, commit_sha, path, "
                          f"substr(instruction, 1, 120) AS instruction FROM pairs WHERE id IN ({_marks(pair_ids)})",
                          pair_ids)

    def lineage_snippets(self, snippet_ids: list[int]) -> list[dict]:
        if not snippet_ids:
            return []
        return self._rows(f"SELECT id, repo_id, path, start_line, end_line, kind, name FROM snippets "
                          f"WHERE id IN ({_marks(snippet_ids)})", snippet_ids)

    def lineage_repos(self, repo_ids: list[int]) -> list[dict]:
        if not repo_ids:
            return []
        return self._rows(f"SELECT id, full_name, url, source, license, commit_sha, default_branch FROM repos "
                          f"WHERE id IN ({_marks(repo_ids)})", repo_ids)

    # -- downstream: from code to the scores it fed ----------------------------------------------
    def lineage_snippets_of_repo(self, repo_id: int) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM snippets WHERE repo_id=?", [repo_id])]

    def lineage_pairs_from(self, *, snippet_ids: Sequence[int] = (), repo_id: int | None = None) -> list[int]:
        ids: set[int] = set()
        if snippet_ids:
            ids |= {r[0] for r in self.db.execute(
                f"SELECT id FROM pairs WHERE snippet_id IN ({_marks(snippet_ids)})", list(snippet_ids))}
        if repo_id is not None:
            ids |= {r[0] for r in self.db.execute("SELECT id FROM pairs WHERE repo_id=?", [repo_id])}
        return sorted(ids)

    def lineage_datasets_with(self, pair_ids: list[int]) -> list[dict]:
        if not pair_ids:
            return []
        return self._rows(f"SELECT d.id, d.name, d.version, count(*) AS pairs FROM dataset_examples e "
                          f"JOIN datasets d ON d.id = e.dataset_id WHERE e.pair_id IN ({_marks(pair_ids)}) "
                          f"GROUP BY d.id ORDER BY d.id", pair_ids)

    def lineage_runs_on(self, dataset_ids: list[int]) -> list[dict]:
        if not dataset_ids:
            return []
        return self._rows(f"SELECT id, name, status, method, base_model, dataset_id FROM runs "
                          f"WHERE dataset_id IN ({_marks(dataset_ids)}) ORDER BY id", dataset_ids)

    def lineage_models_of(self, run_ids: list[int]) -> list[dict]:
        if not run_ids:
            return []
        return self._rows(f"SELECT id, name, kind, run_id FROM models WHERE run_id IN ({_marks(run_ids)}) "
                          f"ORDER BY id", run_ids)

    def lineage_scores_of(self, model_names: list[str]) -> list[dict]:
        """Every eval and judge run that scored one of these models."""
        if not model_names:
            return []
        evals = self._rows(f"SELECT id, suite, model, status, metrics FROM evals "
                           f"WHERE model IN ({_marks(model_names)}) ORDER BY id", model_names)
        for e in evals:
            e["metrics"] = from_json(e["metrics"], {})
        wanted = set(model_names)
        judged = [r for r in self._rows("SELECT id, name, suite, mode, judge, contestants, status FROM judge_runs "
                                        "ORDER BY id")
                  if wanted & set(from_json(r["contestants"], []))]
        return [{"kind": "eval", **e} for e in evals] + [{"kind": "judge_run", **j} for j in judged]
