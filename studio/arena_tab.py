"""Arena tab (the owner's side of the public arena): publish models to visitors, read the
leaderboard with its intervals and the votes with their anonymous voter, exclude a voter's votes.

Handlers (named, tested without a browser in tests/studio/test_arena_handlers.py): `refresh`
reads `pipeline.arena.leaderboard` and `votes` and the store's published models;
`set_published` calls `pipeline.arena.publish`, `set_excluded` calls `pipeline.arena.exclude`.
pipeline.arena asks the gate (MODERATE: the owner only); a user who is not the owner sees why
instead of the tables.
"""
from __future__ import annotations

import gradio as gr

from pipeline import arena
from pipeline.store import open_store
from studio.common import StudioContext, bound, keep_choice, ui_errors

TITLE = "Arena"
BOARD = ["model", "bt", "bt_low", "bt_high", "battles", "wins", "losses", "ties"]
VOTES = ["id", "at", "voter", "mode", "model_a", "model_b", "winner", "counted", "prompt"]


# -- handlers ---------------------------------------------------------------------------------
@ui_errors
def refresh(current: str | None = None) -> tuple:
    """[model picker, published line, leaderboard rows, vote rows], keeping the picked model."""
    from pipeline import access

    if not access.allowed(access.Cap.MODERATE):   # users see why, without an error on every load
        return gr.update(choices=[]), "The arena's votes and publishing are the owner's.", [], []
    store = open_store()
    names = [m["name"] for m in store.list_models()]
    offered = store.published_models()
    rows = [[r[c] for c in BOARD] for r in arena.leaderboard(store)]
    vote_rows = [[v[c] for c in VOTES] for v in arena.votes(store, 500)]
    return (gr.update(choices=names, value=keep_choice(current, names)),
            "Published: " + (", ".join(f"`{n}`" for n in offered) or "none yet"), rows, vote_rows)


@ui_errors
def set_published(name: str | None, on: bool) -> tuple:
    """Publish (or unpublish) a model to the arena's visitors; the refreshed tab."""
    if not name:
        raise gr.Error("Pick a model first")
    arena.publish(open_store(), name, on)
    return refresh(name)


@ui_errors
def set_excluded(who: str | None, on: bool) -> tuple:
    """Stop (or resume) counting a voter's votes; the refreshed tab."""
    n = arena.exclude(open_store(), who or "", on)
    gr.Info(f"{n} vote(s) of {(who or '').strip()} {'no longer count' if on else 'count again'}")
    return refresh()


# -- layout and wiring --------------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    gr.Markdown("Visitors of the public arena (STUDIO_PUBLIC_ARENA=1, served at `/`) chat with the models "
                "published here and vote. Excluding a voter keeps their votes but stops counting them.")
    with gr.Row():
        model = gr.Dropdown([], label="Model", elem_id="arena-admin-model", scale=2)
        publish_btn = gr.Button("Publish", variant="primary", scale=0)
        unpublish_btn = gr.Button("Unpublish", scale=0)
    published = gr.Markdown("", elem_id="arena-published")
    board = gr.Dataframe(headers=BOARD, label="Leaderboard (Bradley-Terry, 95% bootstrap interval)",
                         interactive=False, elem_id="arena-board")
    votes = gr.Dataframe(headers=VOTES, label="Votes (newest first)", interactive=False, wrap=True,
                         elem_id="arena-votes")
    with gr.Row():
        voter = gr.Textbox(label="Voter id (from the votes table)", placeholder="anon-…", elem_id="arena-voter")
        exclude_btn = gr.Button("Exclude their votes", variant="stop", scale=0)
        include_btn = gr.Button("Count them again", scale=0)
        refresh_btn = gr.Button("Refresh", scale=0)

    outputs = [model, published, board, votes]
    refresh_btn.click(refresh, model, outputs)
    publish_btn.click(bound(set_published, on=True), model, outputs)
    unpublish_btn.click(bound(set_published, on=False), model, outputs)
    exclude_btn.click(bound(set_excluded, on=True), voter, outputs)
    include_btn.click(bound(set_excluded, on=False), voter, outputs)
    ctx.on_load(refresh, model, outputs)


if __name__ == "__main__":   # python -m studio.arena_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
