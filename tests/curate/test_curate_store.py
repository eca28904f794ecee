"""CurateMixin on a real SQLite file: repos, snippets with duplicates, browsing, commit pairs."""
from __future__ import annotations

import pytest

from pipeline.curate.extract import content_hash
from pipeline.store import NotFoundError


def repo(name: str) -> dict:
    return {"source": "github", "full_name": name, "url": f"https://github.com/{name}", "stars": 3}


def snippet(path: str, code: str, name: str = "f", language: str = "python", lines: int = 3) -> dict:
    return {"path": path, "language": language, "kind": "function", "name": name, "qualname": name,
            "code": code, "start_line": 1, "end_line": lines, "lines": lines,
            "content_hash": content_hash(code), "tokens": 5}


def test_add_repos_skips_urls_already_present(store):
    added, present = store.add_repos([repo("a/x"), repo("b/y")])
    again, present2 = store.add_repos([repo("a/x"), repo("c/z")])
    assert len(added) == 2 and present == [] and len(again) == 1 and present2 == ["a/x"]
    assert store.curated_urls() == {"https://github.com/a/x", "https://github.com/b/y", "https://github.com/c/z"}


def test_find_repo_by_id_name_or_url(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    assert store.find_repo(rid)["full_name"] == "a/x"
    assert store.find_repo("a/x")["id"] == rid
    assert store.find_repo("https://github.com/a/x")["id"] == rid
    with pytest.raises(NotFoundError, match="no repo 'nope/nope'"):
        store.find_repo("nope/nope")


def test_exact_duplicates_across_repos_point_to_the_first(store):
    (r1, r2), _ = store.add_repos([repo("a/x"), repo("b/y")])
    store.replace_snippets(r1, [snippet("a.py", "def f():\n    return 1")])
    saved = store.replace_snippets(r2, [snippet("b.py", "def f():  \n    return 1\n"),
                                        snippet("c.py", "def g():\n    return 2", "g")])
    rows, _total = store.list_snippets(repo_id=r2)
    dup = next(r for r in rows if r["path"] == "b.py")
    first = store.list_snippets(repo_id=r1)[0][0]
    assert dup["duplicate_of"] == first["id"] and saved["duplicates"] == 1
    assert store.list_snippets(unique_only=True)[1] == 2


def test_replacing_snippets_is_idempotent_and_relinks_duplicates(store):
    (r1, r2), _ = store.add_repos([repo("a/x"), repo("b/y")])
    store.replace_snippets(r1, [snippet("a.py", "def f():\n    return 1")])
    store.replace_snippets(r2, [snippet("b.py", "def f():\n    return 1")])
    store.replace_snippets(r1, [])  # the first copy goes away: the second becomes the original
    rows, total = store.list_snippets()
    assert total == 1 and rows[0]["duplicate_of"] is None
    store.replace_snippets(r2, [snippet("b.py", "def f():\n    return 1")])
    assert store.list_snippets()[1] == 1


def test_snippets_that_pairs_point_to_survive_a_re_extraction(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    store.replace_snippets(rid, [snippet("a.py", "def f():\n    return 1")])
    sid = store.list_snippets(repo_id=rid)[0][0]["id"]
    with store.tx() as db:
        db["pairs"].insert({"instruction": "i", "input": "", "output": "o", "origin": "label", "snippet_id": sid})
    saved = store.replace_snippets(rid, [snippet("a.py", "def f():\n    return 1"),
                                         snippet("a.py", "def g():\n    return 2", "g")])
    assert saved == {"inserted": 1, "kept_in_use": 1, "duplicates": 0}
    assert store.get_snippet(sid)["code"] == "def f():\n    return 1"


def test_snippet_browsing_pages_and_filters(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    rows = [snippet(f"m{i:02d}.py", f"def f{i}():\n    return {i}", f"f{i}") for i in range(25)]
    rows.append(snippet("p.gd", "func go():\n\tpass", "go", language="gdscript"))
    store.replace_snippets(rid, rows)
    page, total = store.list_snippets(limit=10, offset=20)
    assert total == 26 and len(page) == 6 and page[0]["repo"] == "a/x"
    assert store.list_snippets(language="gdscript")[1] == 1
    assert [r["name"] for r in store.list_snippets(name="f1")[0]][:2] == ["f1", "f10"]


def test_snippet_counts_by_language_and_length(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    store.replace_snippets(rid, [snippet("a.py", "def a():\n  return 1", "a", lines=2),
                                 snippet("b.py", "def b():\n  return 2", "b", lines=30),
                                 snippet("c.lua", "function c() end", "c", language="lua", lines=300)])
    counts = store.snippet_counts()
    assert counts["by_language"] == [("python", 2), ("lua", 1)]
    assert dict(counts["by_length"]) == {"1-5": 1, "6-10": 0, "11-20": 0, "21-50": 1, "51-100": 0,
                                         "101-200": 0, "201+": 1}


def test_commit_pairs_are_stored_once_with_origin_commit(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    pair = {"instruction": "Fix jump in the air", "input": "old", "output": "new", "commit_sha": "abc",
            "path": "p.gd", "language": "gdscript"}
    assert store.add_commit_pairs(rid, [pair]) == 1
    assert store.add_commit_pairs(rid, [pair]) == 0
    row = store.db.execute("SELECT origin, status, repo_id, commit_sha FROM pairs").fetchall()
    assert row == [("commit", "draft", rid, "abc")]
    assert store.curate_summary()["commit_pairs"] == 1


def test_repo_stats_merge_keeps_other_keys(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    store.merge_repo_stats(rid, files=3, functions=7)
    store.merge_repo_stats(rid, commit_pairs=2)
    assert store.get_repo(rid)["stats"] == {"files": 3, "functions": 7, "commit_pairs": 2}


def test_unknown_repo_field_is_refused(store):
    (rid,), _ = store.add_repos([repo("a/x")])
    with pytest.raises(Exception, match="unknown repo fields: token"):
        store.update_repo(rid, token="x")
