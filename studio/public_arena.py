"""The public arena page: anonymous visitors chat with the owner's published models (one, two side
by side, or a battle with hidden names) and vote. Nothing else of the studio is on this page,
and every handler goes through the gate as the session's principal (pipeline.arena asks it).

Served at / when STUDIO_PUBLIC_ARENA=1 on a hosted studio (app.py), without a login; the studio
itself sits behind the login at /studio. Answers share one queue lane (concurrency id
"arena-generate", ArenaLimits.concurrency at once); limits are refused with a clear message.

Handlers (named, tested without a browser in tests/studio/test_arena_handlers.py): `offered`
(pipeline.arena.published), `show_mode`, `send` (pipeline.arena.start and send, streaming),
`cast` (pipeline.arena.vote), `new_round`. A refusal reaches the visitor as a `gr.Error`.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

import gradio as gr

from pipeline import arena
from pipeline.chat.arena import VOTE_LABELS
from pipeline.errors import StudioError
from pipeline.store import open_store
from studio.common import StudioContext, bind_principals, bound

MODES = {"Battle (names hidden)": "battle", "Side by side": "side", "Single model": "single"}
EMPTY: dict[str, Any] = {"chat_id": None, "mode": None, "models": None, "turns": [[], []], "voted": False}


def _refuse(exc: Exception) -> NoReturn:
    """A refusal (limits, gate) reaches the visitor as an error message, nothing else changes."""
    raise gr.Error(str(exc)) from None


def _keep_or_nth(current: str | None, names: list[str], i: int) -> str | None:
    """The visitor's pick if still published, else the i-th published model (or nothing)."""
    return current if current in names else (names[i] if len(names) > i else None)


# -- handlers ---------------------------------------------------------------------------------
def offered(a: str | None = None, b: str | None = None) -> tuple[dict, dict]:
    """The published models in both pickers, A and B on different ones by default."""
    try:
        names = arena.published(open_store())
    except StudioError as exc:
        _refuse(exc)
    return (gr.update(choices=names, value=_keep_or_nth(a, names, 0)),
            gr.update(choices=names, value=_keep_or_nth(b, names, 1)))


def show_mode(m: str) -> tuple:
    """[picker A, picker B, chatbot B] shown as the mode needs, then a fresh round."""
    kind = MODES[m]
    return (gr.update(visible=kind != "battle"), gr.update(visible=kind == "side"),
            gr.update(visible=kind != "single"), dict(EMPTY), [], [], "")


def send(st: dict, m: str, a: str | None, b: str | None, text: str | None,
         n_tokens: float) -> Iterator[tuple]:
    """Stream both columns' answers as (state, chatbot A, chatbot B, note). A new conversation
    starts after a vote or when the mode changes; a battle draws its two models."""
    store = open_store()
    kind = MODES[m]
    st = dict(st)
    try:
        if st["chat_id"] is None or st["voted"] or st["mode"] != kind:
            picks: list = [] if kind == "battle" else ([a] if kind == "single" else [a, b])
            st.update(EMPTY, chat_id=arena.start(store, kind, picks), mode=kind, turns=[[], []])
        done = [list(t) for t in st["turns"]]
        for states in arena.send(store, st["chat_id"], text or "", max_new_tokens=int(n_tokens)):
            views = []
            for i in range(2):
                live = done[i] + [{"role": "user", "content": text}]
                if i < len(states):
                    live.append({"role": "assistant", "content": states[i].text or "…"})
                views.append(live)
            yield st, views[0], views[1], ""
        st["turns"] = views
        yield st, views[0], views[1], "Vote for the better answer (or keep chatting)." if kind != "single" else ""
    except StudioError as exc:
        _refuse(exc)


def cast(st: dict, winner: str) -> tuple[dict, str]:
    """The visitor's vote on the round; the state marked voted and the reveal line."""
    if not st.get("chat_id"):
        raise gr.Error("Send a message first; then vote")
    try:
        result = arena.vote(open_store(), st["chat_id"], winner)
    except StudioError as exc:
        _refuse(exc)
    st = dict(st, voted=True)
    return st, (f"Thanks! **A** was **{result['a']}**, **B** was **{result['b']}** "
                f"(your vote: {VOTE_LABELS[winner]}). Send a new message to start another round.")


def new_round() -> tuple[dict, list, list, str]:
    """A fresh round: no conversation, empty chatbots, no note."""
    return dict(EMPTY), [], [], ""


# -- layout and wiring --------------------------------------------------------------------------
def build(ctx: StudioContext | None = None) -> gr.Blocks:
    """The arena's own page (a Blocks of its own, every handler bound to the session's principal).
    `ctx` is accepted for symmetry with the tabs; the handlers open the studio's store."""
    limits = arena.ArenaLimits.from_env()
    with gr.Blocks(title="CodeTune Arena") as demo:
        gr.Markdown("# CodeTune Arena\nAsk a coding question; two models answer. Vote for the better "
                    "answer — in a battle the names are revealed after your vote.\n\n"
                    f"Limits: {limits.messages_per_minute} messages a minute, "
                    f"{limits.max_prompt_chars:,} characters a message, "
                    f"{limits.max_new_tokens} tokens an answer.", elem_id="arena-intro")
        state = gr.State(dict(EMPTY))
        with gr.Row():
            mode = gr.Radio(list(MODES), value="Battle (names hidden)", label="Mode", elem_id="arena-mode")
            model_a = gr.Dropdown([], label="Model A", visible=False, elem_id="arena-model-a")
            model_b = gr.Dropdown([], label="Model B", visible=False, elem_id="arena-model-b")
        with gr.Row():
            bot_a = gr.Chatbot(label="Model A", height=380, elem_id="arena-bot-a")
            bot_b = gr.Chatbot(label="Model B", height=380, elem_id="arena-bot-b")
        prompt = gr.Textbox(label="Message", lines=3, max_length=limits.max_prompt_chars, elem_id="arena-input")
        with gr.Row():
            tokens = gr.Slider(1, max(2, limits.max_new_tokens), value=min(256, limits.max_new_tokens), step=1,
                               label="Max new tokens")
            send_btn = gr.Button("Send", variant="primary", elem_id="arena-send")
            new_btn = gr.Button("New round", elem_id="arena-new")
        with gr.Row():
            vote_btns = {w: gr.Button(label, elem_id=f"arena-vote-{w}") for w, label in VOTE_LABELS.items()}
        outcome = gr.Markdown("", elem_id="arena-outcome")

        demo.load(offered, [model_a, model_b], [model_a, model_b], queue=False)
        mode.change(show_mode, mode, [model_a, model_b, bot_b, state, bot_a, bot_b, outcome], queue=False)
        send_btn.click(send, [state, mode, model_a, model_b, prompt, tokens], [state, bot_a, bot_b, outcome],
                       concurrency_id="arena-generate", concurrency_limit=limits.concurrency,
                       api_name="arena_send")
        for winner, btn in vote_btns.items():
            btn.click(bound(cast, winner=winner), state, [state, outcome],
                      api_name=f"arena_vote_{winner}")
        new_btn.click(new_round, None, [state, bot_a, bot_b, outcome], queue=False)
    return bind_principals(demo)
