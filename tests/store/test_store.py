"""The store on real SQLite files: migrations, concurrency, broken files and folders."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from pipeline.store import MIGRATIONS, Store, StoreError, open_store


def test_new_file_gets_every_migration_and_wal(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"repos", "snippets", "pairs", "pair_edits", "datasets", "jobs", "runs", "run_metrics",
            "models", "evals", "eval_samples", "judgments", "chats", "messages", "votes"} <= set(
        store.db.table_names())


def test_reopening_applies_nothing_twice(tmp_path):
    Store(tmp_path / "s.db").register_model("m", "local", "/x")
    again = Store(tmp_path / "s.db")
    assert again.migrate() == []
    assert again.get_model("m")["path"] == "/x"


def test_old_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    first_name, first_sql = MIGRATIONS[0]
    conn.executescript(first_sql)
    conn.execute("INSERT INTO _migrations VALUES (?, 'then')", [first_name])
    conn.execute("INSERT INTO pairs (instruction, output, origin) VALUES ('Reverse a list', 'x[::-1]', 'import')")
    conn.commit()
    conn.close()
    store = Store(path)
    assert "0002_pairs_fts" in store.applied_migrations()
    # the FTS index built by the upgrade covers rows written before it existed
    hits = list(store.db["pairs"].search("reverse"))
    assert [h["instruction"] for h in hits] == ["Reverse a list"]


def test_corrupt_file_gives_clear_error_and_is_left_untouched(tmp_path):
    path = tmp_path / "studio.db"
    garbage = b"this is not sqlite" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="not a usable SQLite database.*left untouched"):
        Store(path)
    assert path.read_bytes() == garbage


def test_unwritable_data_dir_gives_clear_error(tmp_path):
    """A read-only mount, which even root cannot write (a private mount namespace, so nothing
    outside the test sees it), wherever the checkout lives."""
    ro = tmp_path / "ro"
    ro.mkdir()
    code = ("from pipeline.store import StoreError, open_store\n"
            "try:\n    open_store()\nexcept StoreError as exc:\n    print('ERR', exc)\n")
    script = f"mount -t tmpfs -o ro tmpfs {ro} && exec {sys.executable} -c \"$0\""
    out = subprocess.run(["unshare", "-m", "sh", "-c", script, code], capture_output=True, text=True,
                         env=dict(os.environ, STUDIO_HOME=str(ro / "data"), PYTHONPATH=os.getcwd()))
    assert "ERR" in out.stdout and "not writable" in out.stdout and "Read-only" in out.stdout, \
        out.stdout + out.stderr


def test_data_dir_under_a_file_gives_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "a-file" / "data"))
    with pytest.raises(StoreError, match="is not writable.*Set STUDIO_HOME"):
        open_store()


def test_open_store_is_shared_per_file(studio_home):
    assert open_store() is open_store()


def test_job_process_and_ui_thread_write_concurrently_without_lost_updates(store):
    """A child process reports progress 300 times while UI threads register models and edit
    the same job's title: every write survives."""
    job_id = store.create_job("prepare_model", {}, "before")
    child = textwrap.dedent(f"""
        from pipeline.store import Store
        s = Store({str(store.path)!r})
        for i in range(1, 301):
            s.update_job_progress({job_id}, i, 300, None, None, f"step {{i}}")
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], env=dict(os.environ, PYTHONPATH=os.getcwd()))

    def ui(worker: int):
        for i in range(60):
            store.register_model(f"m{worker}-{i}", "local", f"/p/{i}")

    threads = [threading.Thread(target=ui, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    store.db.execute("SELECT 1")
    with store.tx() as db:
        db.execute("UPDATE jobs SET title='renamed by ui' WHERE id=?", [job_id])
    for t in threads:
        t.join()
    assert proc.wait(60) == 0
    job = store.get_job(job_id)
    assert (job["done"], job["total"], job["message"]) == (300, 300, "step 300")
    assert job["title"] == "renamed by ui"
    assert store.count("models") == 180


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.tx() as db:
            db["models"].insert({"name": "ghost", "kind": "local"})
            raise RuntimeError("boom")
    assert store.count("models") == 0


def test_a_lock_held_past_the_busy_timeout_is_one_clear_message(tmp_path, monkeypatch):
    import sqlite3

    import pipeline.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    store = store_module.Store(tmp_path / "studio.db")
    holder = sqlite3.connect(tmp_path / "studio.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")   # another writer keeps the lock
    try:
        with pytest.raises(store_module.StoreError, match="stayed locked by another writer"):
            with store.tx() as db:
                db.execute("UPDATE _migrations SET applied_at = applied_at")
    finally:
        holder.execute("ROLLBACK")
    with store.tx() as db:   # and the store works again once the lock is gone
        db.execute("UPDATE _migrations SET applied_at = applied_at")
