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

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from studio.common import StudioContext
from studio.shell import CSS, compose, launch, startup

# The tabs, in the order of the flow: each a module with TITLE and build(ctx) (studio/README: a
# tab's layout, its named handlers, then its wiring); `python -m studio.<tab>` serves one alone.
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


def build_app(ctx: StudioContext | None = None, tabs: list[str] | None = None) -> gr.Blocks:
    """The studio's page: every tab of TABS (or the given module names), after the startup upkeep."""
    ctx = ctx or StudioContext.from_env()
    startup(ctx)
    return compose(ctx, [importlib.import_module(name) for name in (tabs or TABS)])


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
    if hosted.public_arena():
        demo.queue(default_concurrency_limit=8)
        serve_public_arena(demo, auth, args)
        return
    launch(demo, args.host, args.port, args.share, auth)


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
