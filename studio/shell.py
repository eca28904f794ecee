"""The page around the tabs: startup upkeep, the header, the tab container, the wiring that
needs every tab built, and the gate on every handler. app.py composes the whole studio with it;
`python -m studio.<tab>` composes one tab (`run_alone`), as Gradio's multipage guides do, so a
tab can be worked on without the others (what it offers other tabs is then simply not wired).
"""
from __future__ import annotations

import argparse
import os
import threading
from types import ModuleType

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from studio.common import StudioContext, bind_principals

CSS = """
.job-row {display:flex; gap:.6em; align-items:center; padding:.25em 0;}
.job-row progress {width: 16em;}
.status-failed, .status-interrupted {color: #c0392b;}
.status-done {color: #1e8449;}
.muted {opacity: .7;}
.code-text textarea {font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; tab-size: 4;}
"""


def startup(ctx: StudioContext) -> None:
    """Open the studio's log file ($STUDIO_HOME/logs/studio.log, where a handler's bug keeps its
    traceback), open the store, mark jobs that died with the last app as interrupted, queue the
    default model's preparation on first start. A broken store is reported in the UI, not a crash.
    This is the server's own upkeep, not a visitor's action (pipeline.access.housekeeping)."""
    from pipeline import access
    from pipeline.errors import attach_log

    attach_log()
    with access.housekeeping():
        _startup(ctx)


def _upkeep(fn, *args):
    from pipeline import access

    with access.housekeeping():
        return fn(*args)


def _startup(ctx: StudioContext) -> None:
    from pipeline import jobs
    from pipeline.store import StoreError, open_store

    try:
        store = open_store()
    except StoreError as exc:
        ctx.store_error = str(exc)
        print(f"warning: {exc}")
        return
    jobs.supervise(store)
    jobs.start_supervisor(store)  # a killed job shows interrupted even with no Jobs tab open
    if os.environ.get("STUDIO_NO_DEFAULT_MODEL") != "1":
        from pipeline.models.default_model import ensure_default_model_job

        # In a thread: checking the bundled wheel and spawning must not delay the first page.
        threading.Thread(target=_upkeep, args=(ensure_default_model_job, store), daemon=True).start()


def compose(ctx: StudioContext, tabs: list[ModuleType]) -> gr.Blocks:
    """The page with `tabs` (modules with TITLE and build(ctx)), in order, every handler bound to
    the session's principal (bind_principals: a new tab cannot forget the gate)."""
    from pipeline import hosted

    with gr.Blocks(title="CodeTune Studio") as demo:
        ctx.demo = demo
        gr.Markdown("# CodeTune Studio\nCurate code → label → review → train → chat → evaluate.")
        if hosted.data_folder_warning():
            gr.Markdown(f"**Warning:** {hosted.data_folder_warning()}", elem_id="data-warning")
        if ctx.store_error:
            gr.Markdown(f"**The studio database cannot be used:** {ctx.store_error}",
                        elem_id="store-error")
        with gr.Tabs() as ctx.tabs:   # a tab can send the person to another (ctx.go_to)
            for tab in tabs:
                with gr.Tab(tab.TITLE, id=tab.TITLE.lower()) as ctx.tab:
                    tab.build(ctx)
                ctx.tab = None
        ctx.wire_tab_openers()
    return bind_principals(demo)


def launch(demo: gr.Blocks, host: str, port: int, share: bool = False, auth=None) -> None:
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=host, server_port=port, share=share, auth=auth,
                css=CSS, theme=gr.themes.Soft(), show_error=True)


def alone_parser(title: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"Serve the studio's {title} tab alone")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 7860)), help="port")
    return parser


def run_alone(tab: ModuleType, argv: list[str] | None = None) -> None:
    """`python -m studio.<tab> [--port P]`: this one tab on the studio's store (local use only)."""
    args = alone_parser(tab.TITLE).parse_args(argv)
    ctx = StudioContext.from_env()
    startup(ctx)
    launch(compose(ctx, [tab]), args.host, args.port)
