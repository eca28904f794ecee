"""The app shell without a browser: hosted mode, auth, a broken store shown instead of a crash."""
from __future__ import annotations

import app
from studio.common import StudioContext


def test_local_mode_allows_code_execution(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    ctx = StudioContext.from_env()
    assert not ctx.hosted and ctx.allow_code_execution
    assert app.parse_args([]).host == "127.0.0.1"


def test_hosted_mode_binds_all_interfaces_and_disables_execution(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/codetune")
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    ctx = StudioContext.from_env()
    assert ctx.hosted and not ctx.allow_code_execution
    assert app.parse_args([]).host == "0.0.0.0"
    monkeypatch.setenv("STUDIO_ALLOW_CODE_EXECUTION", "1")
    assert StudioContext.from_env().allow_code_execution


def test_local_mode_can_disable_execution(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("STUDIO_ALLOW_CODE_EXECUTION", "0")
    assert not StudioContext.from_env().allow_code_execution


def test_basic_auth_from_env(monkeypatch):
    monkeypatch.setenv("STUDIO_AUTH", "ana:s3cret:with-colon")
    assert app.basic_auth() == ("ana", "s3cret:with-colon")
    monkeypatch.setenv("STUDIO_AUTH", "no-password")
    assert app.basic_auth() is None


def test_corrupt_database_is_reported_in_the_page_not_a_crash(studio_home):
    (studio_home / "studio.db").write_bytes(b"garbage" * 50)
    ctx = StudioContext()
    demo = app.build_app(ctx)
    assert "not a usable SQLite database" in ctx.store_error
    assert any(getattr(b, "elem_id", None) == "store-error" for b in demo.blocks.values())
    assert (studio_home / "studio.db").read_bytes() == b"garbage" * 50


def test_first_start_queues_the_default_model_once(store):
    from pipeline import jobs
    from pipeline.models.default_model import ensure_default_model_job

    first = ensure_default_model_job(store)
    try:
        assert first is not None and ensure_default_model_job(store) == first
        assert [j["kind"] for j in store.list_jobs()] == ["prepare_model"]
    finally:
        jobs.cancel(store, first)
