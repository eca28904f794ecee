"""A Space keeps its data, or says it will not; on ZeroGPU generation runs under spaces.GPU and
training is refused with the reason (issue 21, item 5)."""
from __future__ import annotations

import sys

import pytest

from pipeline import access, hosted


@pytest.fixture
def space(monkeypatch, tmp_path):
    monkeypatch.setenv("SPACE_ID", "someone/codetune")
    for name in ("STUDIO_HOME", "STUDIO_HOSTED", "STUDIO_PRINCIPAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUDIO_SPACE_STORAGE", str(tmp_path / "data"))
    return tmp_path


def test_with_persistent_storage_the_data_folder_is_under_data(space):
    from pipeline.paths import studio_home

    (space / "data").mkdir()
    assert studio_home() == (space / "data" / "codetune-studio").absolute()
    assert hosted.data_folder_warning() is None


def test_without_persistent_storage_the_app_and_settings_warn(space, monkeypatch):
    from pipeline.paths import studio_home
    from studio.settings_tab import hosted_markdown

    monkeypatch.chdir(space)
    assert studio_home() == (space / "studio_data").absolute()
    warning = hosted.data_folder_warning()
    assert "lost at every restart" in warning and "/data" in warning
    assert warning in hosted_markdown()


def test_an_explicit_studio_home_is_kept_and_not_warned_about(space, monkeypatch):
    from pipeline.paths import studio_home

    monkeypatch.setenv("STUDIO_HOME", str(space / "mine"))
    assert studio_home() == space / "mine" and hosted.data_folder_warning() is None


def test_the_app_shows_the_warning_banner(space, monkeypatch):
    import app

    monkeypatch.chdir(space)
    monkeypatch.setenv("STUDIO_NO_DEFAULT_MODEL", "1")
    demo = app.build_app()
    banners = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "data-warning"]
    assert banners and "lost at every restart" in banners[0].value


@pytest.fixture
def zero_gpu(space, monkeypatch, tmp_path):
    """The `spaces` package of a ZeroGPU Space cannot lend a GPU here; a stand-in module with its
    decorator's shape records which handlers were wrapped, which is what the studio controls."""
    (space / "data").mkdir(exist_ok=True)
    pkg = tmp_path / "zerogpu"
    pkg.mkdir()
    (pkg / "spaces.py").write_text(
        "wrapped = []\n"
        "def GPU(fn=None, **kwargs):\n"
        "    wrapped.append(getattr(fn, '__name__', fn))\n"
        "    return fn\n")
    monkeypatch.syspath_prepend(str(pkg))
    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    yield
    sys.modules.pop("spaces", None)


def test_on_zero_gpu_generation_handlers_run_under_spaces_gpu(zero_gpu, monkeypatch):
    import spaces

    import app

    monkeypatch.setenv("STUDIO_NO_DEFAULT_MODEL", "1")
    assert hosted.zero_gpu()
    app.build_app()
    assert {"do_try", "do_send", "do_regen"} <= set(spaces.wrapped)   # Models try, Chat send, regenerate
    assert "do_push" not in spaces.wrapped and "do_register" not in spaces.wrapped


def test_on_zero_gpu_training_is_refused_with_the_reason(zero_gpu, store):
    from pipeline import jobs

    with access.acting_as(access.OWNER), pytest.raises(access.AccessDenied, match="training is off on ZeroGPU"):
        jobs.submit(store, "train", {}, spawn=False)
    assert store.count("jobs") == 0
