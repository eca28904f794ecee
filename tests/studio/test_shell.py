"""The page shell without a browser: every tab builds alone, tabs share state through one typed
object, and `python -m studio.<tab>` serves one tab over HTTP."""
from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import app
from studio.common import StudioContext
from studio.shared import Shared
from studio.shell import compose

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", app.TABS)
def test_every_tab_builds_alone(studio_home, name):
    import importlib

    ctx = StudioContext()
    demo = compose(ctx, [importlib.import_module(name)])
    assert demo.fns, f"{name} wired no handler"
    assert ctx.shared == Shared() or name == "studio.evals_tab"   # only the Evals tab offers something


def test_the_whole_page_links_compare_to_the_evals_tab(studio_home):
    ctx = StudioContext()
    demo = app.build_app(ctx)
    assert ctx.shared.eval_pick is not None and ctx.shared.judge is not None
    # the Compare table's select drives the Evals tab's pickers and its judge accordion
    targets = {id(b) for fn in demo.fns.values() for b in fn.outputs}
    assert {id(ctx.shared.eval_pick), id(ctx.shared.judge.pick), id(ctx.shared.judge.accordion)} <= targets


def test_a_misspelt_shared_field_fails_at_build_time():
    with pytest.raises(AttributeError):
        Shared().evals_pick = None   # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_tab_runs_alone_over_http(studio_home):
    port = _free_port()
    env = {**os.environ, "STUDIO_HOME": str(studio_home), "STUDIO_NO_DEFAULT_MODEL": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "studio.compare_tab", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, page = time.monotonic() + 120, ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert '"Compare"' in page, proc.stdout.read() if proc.poll() is not None else page[:500]
        assert '"Train"' not in page     # the one tab, not the studio
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_every_one_tab_example_in_the_docs_names_a_tab_and_its_flags_parse():
    import importlib
    import re
    import shlex

    from studio.shell import alone_parser

    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    examples = [m for p in texts for m in re.findall(r"python -m (studio\.\w+)([^`\n]*)", p.read_text())]
    assert examples, "the README says how to serve one tab"
    for module, rest in examples:
        tab = importlib.import_module(module)
        assert f"{module}" in app.TABS and tab.TITLE
        alone_parser(tab.TITLE).parse_args(shlex.split(rest.split(" #")[0]))


def test_api_endpoints_are_named_after_their_handlers(studio_home):
    """Handlers with fixed arguments (the context, a vote's winner) keep their own names as API
    endpoints, so the API page and the gate's logs say /do_vote, not /partial_3."""
    demo = app.build_app(StudioContext())
    names = [fn.api_name for fn in demo.fns.values() if fn.api_name]
    assert not [n for n in names if n.startswith("partial")]
    assert {"start_run", "do_vote", "set_published", "load"} <= {n.rstrip("_0123456789") for n in names}


# The studio's HTTP API: endpoints the hostile-visitor tests and ZeroGPU's wrapping name. Renaming a
# handler must not rename its endpoint (the tests calling it would then pass by calling nothing).
STABLE_ENDPOINTS = {"do_register", "do_remove", "do_prepare", "do_try", "do_preview", "do_start", "do_stop",
                    "do_resume", "do_compare", "do_merge", "do_push", "do_save_conversation", "do_export",
                    "do_unflag", "do_search", "do_estimate", "do_run", "do_retry", "do_unload", "do_send",
                    "do_regen", "do_vote", "do_open", "start_run"}


def test_the_studios_endpoint_names_stay(studio_home):
    demo = app.build_app(StudioContext())
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    assert STABLE_ENDPOINTS <= names
    start = next(fn for fn in demo.fns.values() if fn.api_name == "start_run")
    handler = inspect.unwrap(start.fn)        # the gate's wrapper, then bound()'s partial
    handler = inspect.unwrap(getattr(handler, "func", handler))
    assert handler.__module__ == "studio.evals_tab"    # /start_run is the Evals tab's, as before
