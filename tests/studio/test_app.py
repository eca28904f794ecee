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


def test_ui_messages_name_the_form_fields_not_the_cli_flags():
    from pipeline.errors import ConfigError
    from pipeline.quickstart.road import QuickstartConfig
    from studio.common import name_form_fields
    from studio.widgets import form_label

    form_label("train_steps", "Training steps", QuickstartConfig)
    form_label("limit", "First N tasks (0 = all)", type("EvalConfig", (), {}))
    form_label("limit", "First N items (0 = all)", type("OwnCodeConfig", (), {}))
    try:
        QuickstartConfig.from_dict({"train_steps": 999999999})
    except ConfigError as exc:
        cli, ui = str(exc), name_form_fields(str(exc), exc.config)
    assert name_form_fields("--limit must be at least 0", "EvalConfig") == "“First N tasks (0 = all)” must be at least 0"
    assert name_form_fields("--limit must be at least 0") == "--limit must be at least 0"   # ambiguous: kept
    assert cli.startswith("--train-steps must be at most 5000")     # the CLI names its flag
    assert ui.startswith("“Training steps” must be at most 5000")   # the form names its box
    assert name_form_fields("run it with --unknown-flag") == "run it with --unknown-flag"


def test_absurd_training_lengths_are_refused_with_the_limit():
    import pytest

    from pipeline.errors import ConfigError
    from pipeline.train.config import TrainConfig

    with pytest.raises(ConfigError, match="--max-steps must be at most 1000000"):
        TrainConfig(base_model="m", dataset="d", max_steps=999999999)


def test_the_train_log_view_shows_the_newest_lines(studio_home):
    from pipeline.jobs import log_path_for
    from studio.train_tab import LOG_LINES, log_tail

    path = log_path_for(41)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"line {i}\n" for i in range(200)))
    shown = log_tail(41).splitlines()
    assert len(shown) == LOG_LINES and shown[-1] == "line 199" and shown[0] == f"line {200 - LOG_LINES}"
    assert log_tail(None) == ""


def test_the_loss_plot_names_the_run_it_shows(store):
    from studio.train_tab import loss_plot

    run = store.create_run("lora-after-resume", {"method": "lora"})
    store.log_run_metrics(run["id"], 1, {"loss": 2.0})
    store.log_run_metrics(run["id"], 2, {"loss": 1.5})
    figure, points = loss_plot(store, store.get_run(run["id"]))
    assert points == 2 and figure.title == "Loss · lora-after-resume"   # the legend holds only series
