"""A hosted studio (`python app.py`) on 127.0.0.1 for hostile-visitor tests over HTTP, a
hub-shaped HTTP server that records what reaches it, and a gradio_client helper that finds an
event by the elem_id of its button (stable across versions, unlike generated api names)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.browser import free_port

ROOT = Path(__file__).resolve().parents[2]


class HubRecorder:
    """Answers every request with 200 {} and records (method, path, authorization)."""

    def __init__(self):
        self.requests: list[tuple[str, str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                recorder.requests.append((self.command, self.path, self.headers.get("Authorization") or ""))
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = _any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def launch(home: Path, env: dict, lifetime_s: int = 600, python: str = sys.executable) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_") and k != "SPACE_ID"}
    full.update(STUDIO_HOME=str(home), STUDIO_NO_DEFAULT_MODEL="1", GRADIO_ANALYTICS_ENABLED="False",
                PYTHONUNBUFFERED="1", **env)
    log = open(home / "app.log", "ab")
    proc = subprocess.Popen(["timeout", str(lifetime_s), python, "app.py", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return proc, url
        except urllib.error.HTTPError:
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hosted studio did not start: " + (home / "app.log").read_text()[-2000:]) from None
            time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(10)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


def client(url: str, user: str | None = None, password: str | None = None):
    from gradio_client import Client

    return Client(url, auth=(user, password) if user else None, verbose=False, download_files=False)


def endpoint(c, elem_id: str, event: str = "click") -> int:
    """The fn_index of the event `event` of the component with `elem_id`."""
    ids = [comp["id"] for comp in c.config["components"] if (comp.get("props") or {}).get("elem_id") == elem_id]
    assert ids, f"no component with elem_id {elem_id!r}"
    for dep in c.config["dependencies"]:
        if any(t[0] == ids[0] and t[1] == event for t in dep["targets"]):
            return dep["id"]
    raise AssertionError(f"no {event} event on {elem_id!r}")


def call(c, elem_id: str, *args, event: str = "click"):
    """Send one event as the page would; a refusal is a warning toast, so the caller checks effects."""
    try:
        return c.predict(*args, fn_index=endpoint(c, elem_id, event))
    except Exception as exc:   # an error shown to the visitor also counts as refused
        return exc


def rows(db: Path, sql: str, args=()) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def dumps(x) -> str:
    return json.dumps(x, default=str)
