"""The public arena page: anonymous visitors chat with the owner's published models (one, two side
by side, or a battle with hidden names) and vote. Nothing else of the studio is on this page,
and every handler goes through the gate as the session's principal (pipeline.arena asks it).

Served at / when STUDIO_PUBLIC_ARENA=1 on a hosted studio (app.py), without a login; the studio
itself sits behind the login at /studio. Answers share one queue lane (concurrency id
"arena-generate", ArenaLimits.concurrency at once); limits are refused with a clear message.
"""
from __future__ import annotations

import gradio as gr

from pipeline import arena
from pipeline.chat.arena import VOTE_LABELS
from pipeline.errors import StudioError
from studio.common import StudioContext, bind_principals

MODES = {"Battle (names hidden)": "battle", "Side by side": "side", "Single model": "single"}
EMPTY = {"chat_id": None, "mode": None, "models": None, "turns": [[], []], "voted": False}


def _refuse(exc: Exception):
    """A refusal (limits, gate) reaches the visitor as an error message, nothing else changes."""
    raise gr.Error(str(exc)) from None


def build(ctx: StudioContext | None = None) -> gr.Blocks:
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

        def offered(a=None, b=None):
            try:
                names = arena.published(ctx.store() if ctx else _store())
            except StudioError as exc:
                _refuse(exc)
            pick = lambda cur, i: cur if cur in names else (names[i] if len(names) > i else None)  # noqa: E731
            return gr.update(choices=names, value=pick(a, 0)), gr.update(choices=names, value=pick(b, 1))

        def show_mode(m):
            kind = MODES[m]
            return (gr.update(visible=kind != "battle"), gr.update(visible=kind == "side"),
                    gr.update(visible=kind != "single"), dict(EMPTY), [], [], "")

        def send(st, m, a, b, text, n_tokens):
            store = ctx.store() if ctx else _store()
            kind = MODES[m]
            st = dict(st)
            try:
                if st["chat_id"] is None or st["voted"] or st["mode"] != kind:
                    picks = [] if kind == "battle" else ([a] if kind == "single" else [a, b])
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
                yield st, views[0], views[1], "Vote for the better answer (or keep chatting)." \
                    if kind != "single" else ""
            except StudioError as exc:
                _refuse(exc)

        def cast(st, winner):
            if not st.get("chat_id"):
                raise gr.Error("Send a message first; then vote")
            try:
                result = arena.vote(ctx.store() if ctx else _store(), st["chat_id"], winner)
            except StudioError as exc:
                _refuse(exc)
            st = dict(st, voted=True)
            return st, (f"Thanks! **A** was **{result['a']}**, **B** was **{result['b']}** "
                        f"(your vote: {VOTE_LABELS[winner]}). Send a new message to start another round.")

        def new_round():
            return dict(EMPTY), [], [], ""

        demo.load(offered, [model_a, model_b], [model_a, model_b], queue=False)
        mode.change(show_mode, mode, [model_a, model_b, bot_b, state, bot_a, bot_b, outcome], queue=False)
        send_btn.click(send, [state, mode, model_a, model_b, prompt, tokens], [state, bot_a, bot_b, outcome],
                       concurrency_id="arena-generate", concurrency_limit=limits.concurrency,
                       api_name="arena_send")
        for winner, btn in vote_btns.items():
            btn.click(lambda st, w=winner: cast(st, w), state, [state, outcome], api_name=f"arena_vote_{winner}")
        new_btn.click(new_round, None, [state, bot_a, bot_b, outcome], queue=False)
    return bind_principals(demo)


def _store():
    from pipeline.store import open_store

    return open_store()
