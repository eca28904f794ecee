"""The Settings tab's views and its one action called directly (no browser): keys are reported
present or not (never their values), a broken store is named, and unloading frees the models."""
from __future__ import annotations

from studio import settings_tab as tab
from studio.common import StudioContext


def test_the_summary_names_keys_present_without_their_values(studio_home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    text = tab.summary(StudioContext(hosted=False, allow_code_execution=False))
    assert "| `OPENAI_API_KEY` | present |" in text and "| `GITHUB_TOKEN` | not set |" in text
    assert "sk-secret-value-123" not in text
    assert f"Database: `{studio_home / 'studio.db'}`" in text
    assert "**Mode:** local · code execution disabled" in text


def test_a_store_that_cannot_be_opened_is_named_instead_of_the_database(studio_home):
    text = tab.summary(StudioContext(store_error="disk I/O error"))
    assert "**Store error:** disk I/O error" in text and "Database:" not in text


def test_unload_all_frees_every_model_and_shows_the_hardware_after(studio_home, tiny_model_dir, capsys):
    from pipeline import models

    models.load({"name": "tiny", "kind": "local", "path": str(tiny_model_dir)})
    assert "Models loaded in memory: none" not in tab.hardware()
    text = tab.unload_all()
    assert "Unloaded 1 model(s)" in capsys.readouterr().out   # gr.Info outside a page prints
    assert text.endswith("Models loaded in memory: none") and models.loaded_models() == []
