"""The studio built as a Hugging Face Space builds it: a fresh venv, `pip install -r
requirements.txt` and nothing else (no Makefile, no apt), then `python app.py` with SPACE_ID set.
It refuses to start without STUDIO_AUTH, serves a login page with it, and serves the public arena
to anonymous visitors with STUDIO_PUBLIC_ARENA=1. Everything listens on 127.0.0.1 and stops by
itself (`timeout`). Slow (minutes: the install), run in CI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.access.hosted_server import launch, stop

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 1500
pytestmark = [pytest.mark.slow, pytest.mark.timeout(INSTALL_TIMEOUT_S + 300)]


@pytest.fixture(scope="module")
def space_python(tmp_path_factory) -> str:
    venv = tmp_path_factory.mktemp("space") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    out = subprocess.run(["nice", "-n", "10", python, "-m", "pip", "install", "-q", "-r", "requirements.txt"],
                         cwd=ROOT, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert out.returncode == 0, f"pip install -r requirements.txt failed:\n{out.stderr[-3000:]}"
    return python


def _env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "VIRTUAL_ENV")) and k != "SPACE_ID"}
    return dict(env, STUDIO_HOME=str(home), STUDIO_NO_DEFAULT_MODEL="1", GRADIO_ANALYTICS_ENABLED="False",
                SPACE_ID="someone/codetune", **extra)


def test_the_space_refuses_to_start_without_a_login(space_python, tmp_path):
    out = subprocess.run(["timeout", "120", space_python, "app.py", "--host", "127.0.0.1", "--port", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=180, env=_env(tmp_path))
    assert out.returncode == 2, out.stderr[-2000:]
    assert "STUDIO_AUTH=user:password" in out.stderr and "Traceback" not in out.stderr


def test_the_space_serves_a_login_page_and_the_studio_after_login(space_python, tmp_path):
    proc, url = launch(tmp_path, {"SPACE_ID": "someone/codetune", "STUDIO_AUTH": "owner:pw-7"},
                       python=space_python)
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "/config", timeout=10)
        assert refused.value.code == 401
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        opener.open(url + "/login", urllib.parse.urlencode({"username": "owner", "password": "pw-7"}).encode())
        config = json.load(opener.open(url + "/config", timeout=10))
        assert config["title"] == "CodeTune Studio"
    finally:
        stop(proc)


def test_the_space_serves_the_public_arena_to_anonymous_visitors(space_python, tmp_path):
    proc, url = launch(tmp_path, {"SPACE_ID": "someone/codetune", "STUDIO_AUTH": "owner:pw-7",
                                  "STUDIO_OWNERS": "owner", "STUDIO_PUBLIC_ARENA": "1"}, python=space_python)
    try:
        arena = json.load(urllib.request.urlopen(url + "/config", timeout=10))   # no login
        assert arena["title"] == "CodeTune Arena"
        assert not any(d.get("api_name") in ("do_push", "do_register", "do_merge") for d in arena["dependencies"])
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "/studio/config", timeout=10)
        assert refused.value.code == 401
    finally:
        stop(proc)
