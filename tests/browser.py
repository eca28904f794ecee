"""Browser fixtures: the real studio (`python app.py`) in a subprocess on 127.0.0.1 with a temp
STUDIO_HOME, driven by Playwright in Debian's Chromium (never a downloaded browser).

The server runs under `timeout`, so it stops by itself even if pytest is killed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_served(url: str, proc: subprocess.Popen, timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"studio exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"studio not served at {url} after {timeout}s")


def launch_studio(home: Path, port: int, extra_env: dict | None = None, lifetime_s: int = 1800):
    env = dict(os.environ, STUDIO_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False",
               STUDIO_NO_DEFAULT_MODEL="1", PYTHONUNBUFFERED="1", **(extra_env or {}))
    log = open(home / "app.log", "ab")
    return subprocess.Popen(["timeout", str(lifetime_s), sys.executable, "app.py", "--host", "127.0.0.1",
                             "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    for sig in (15, 9):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_studio(home: Path, timeout: float = 60, extra_env: dict | None = None):
    """The url of a studio of its own on `home` (whatever the store there holds when it starts,
    e.g. models registered beforehand), served for the span of the `with` block."""
    port = free_port()
    proc = launch_studio(home, port, extra_env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_served(url, proc, timeout=timeout)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """(url, home) of one studio shared by the browser tests of a session."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    home = tmp_path_factory.mktemp("studio-home")
    with running_studio(home) as url:
        yield url, home


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def studio_page(studio_server, browser):
    """A fresh page on the shared studio, with the app loaded."""
    url, _ = studio_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("text=CodeTune Studio")
    yield page
    page.close()


def open_tab(page, title: str) -> None:
    page.get_by_role("tab", name=title, exact=True).click()


def open_accordion(page, title: str, content_selector: str, tries: int = 5) -> None:
    """Open an accordion until `content_selector` shows (a click before the page has wired its
    events is lost, so one click is not enough on a loaded machine)."""
    content = page.locator(content_selector).first
    for _ in range(tries):
        if content.is_visible():
            return
        page.get_by_text(title).first.click()
        page.wait_for_timeout(1000)
    content.wait_for(state="visible")


def shot(page, name: str) -> None:
    """Save a screenshot for the README when STUDIO_SCREENSHOTS names a folder (`make screenshots`)."""
    folder = os.environ.get("STUDIO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)   # let a refresh that is still landing finish fading in
        page.screenshot(path=str(Path(folder) / f"{name}.png"))
