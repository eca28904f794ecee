"""CodeTune Studio: `python app.py [--host H] [--port P] [--share]` serves the studio.

It only composes the tabs in studio/, binds every handler to the session's principal (the gate,
pipeline.access), sets up the queue and launches; torch and transformers are imported the first
time a model is used, so the page is served in seconds. On Hugging Face Spaces (SPACE_ID set) it
binds 0.0.0.0 and refuses to start without STUDIO_AUTH=user:pass (a login page); logins listed in
STUDIO_OWNERS act as the owner. With STUDIO_PUBLIC_ARENA=1 the public arena is served at / to
anonymous visitors and the studio moves behind the login at /studio.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from studio.common import StudioContext  # noqa: E402

# The tabs, in the order of the flow: a module with TITLE and build(ctx), or (title, text) for a
# capability that has no issue built yet, whose tab says so instead of showing fake content.
TABS = [
    "studio.quickstart_tab",
    "studio.repos_tab",
    "studio.label_tab",
    "studio.pairs_tab",
    "studio.train_tab",
    "studio.chat_tab",
    "studio.evals_tab",
    "studio.compare_tab",
    "studio.arena_tab",
    "studio.lineage_tab",
    "studio.models_tab",
    "studio.jobs_tab",
    "studio.settings_tab",
]
CSS = """
.job-row {display:flex; gap:.6em; align-items:center; padding:.25em 0;}
.job-row progress {width: 16em;}
.status-failed, .status-interrupted {color: #c0392b;}
.status-done {color: #1e8449;}
.muted {opacity: .7;}
.code-text textarea {font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; tab-size: 4;}
"""


def startup(ctx: StudioContext) -> None:
    """Open the store, mark jobs that died with the last app as interrupted, queue the default
    model's preparation on first start. A broken store is reported in the UI, not a crash.
    This is the server's own upkeep, not a visitor's action (pipeline.access.housekeeping)."""
    from pipeline import access

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


def build_app(ctx: StudioContext | None = None) -> gr.Blocks:
    ctx = ctx or StudioContext.from_env()
    startup(ctx)
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
            for entry in TABS:
                tab = importlib.import_module(entry)
                with gr.Tab(tab.TITLE, id=tab.TITLE.lower()) as ctx.tab:
                    tab.build(ctx)
                ctx.tab = None
        ctx.wire_tab_openers()
    from studio.common import bind_principals

    return bind_principals(demo)   # every handler asks the gate as the session's principal


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from pipeline import hosted as hosted_profile

    hosted = hosted_profile.enabled()
    parser = argparse.ArgumentParser(description="Serve CodeTune Studio")
    parser.add_argument("--host", default="0.0.0.0" if hosted else "127.0.0.1",
                        help="address to bind (0.0.0.0 by default on Hugging Face Spaces)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 7860)), help="port")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    return parser.parse_args(argv)


def basic_auth() -> tuple[str, str] | list[tuple[str, str]] | None:
    """STUDIO_AUTH=user:pass[,user2:pass2] turns on a login page (required when hosted)."""
    from pipeline import hosted

    pairs = hosted.auth_pairs()
    return pairs[0] if len(pairs) == 1 else (pairs or None)


def main(argv: list[str] | None = None) -> None:
    from pipeline import hosted

    args = parse_args(argv)
    try:
        hosted.check_startup()  # hosted without a login would expose everything: refuse to serve
    except hosted.HostedConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    auth = basic_auth()
    demo = build_app()
    demo.queue(default_concurrency_limit=8)
    if hosted.public_arena():
        serve_public_arena(demo, auth, args)
        return
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                css=CSS, theme=gr.themes.Soft(), show_error=True)


def serve_public_arena(studio: gr.Blocks, auth, args) -> None:
    """The arena at / for anonymous visitors (no login), the studio behind the login at /studio."""
    import fastapi
    import uvicorn

    from pipeline.arena import ArenaLimits
    from studio import public_arena

    limits = ArenaLimits.from_env()
    arena = public_arena.build(StudioContext.from_env())
    # Bounded: at most `concurrency` answers at once, `queue_size` visitors waiting (others are told).
    arena.queue(default_concurrency_limit=limits.concurrency, max_size=limits.queue_size)
    app = fastapi.FastAPI()
    app = gr.mount_gradio_app(app, studio, path="/studio", auth=auth, css=CSS, theme=gr.themes.Soft(),
                              show_error=True)
    app = gr.mount_gradio_app(app, arena, path="", theme=gr.themes.Soft(), show_error=True)
    print(f"* public arena on http://{args.host}:{args.port}/  studio (login) on /studio", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
