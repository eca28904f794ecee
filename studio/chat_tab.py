"""Chat tab: one model or 2-4 side by side, battles with hidden names, votes, leaderboard, and
answers sent back into the Pairs table. Thin callbacks over pipeline.chat; the conversation id of
this browser session lives in gr.State, the loaded models in the process-wide cache."""
from __future__ import annotations

import re
import uuid

import gradio as gr

from pipeline.chat import ChatSettings, Column, new_chat, regenerate, send, send_to_pairs, stop_run
from pipeline.chat.arena import VOTE_LABELS, pick_battle, vote
from pipeline.chat.conversation import check_prompt, delete as delete_chat, export_jsonl, last_turn
from studio.arena_exchange import export_battles_file, import_battles_file
from studio.common import StudioContext, ui_errors

TITLE = "Chat"
MAX_COLS = 4
LETTERS = "ABCD"
STATUS_TEXT = {"starting": "thinking…", "loading": "loading the model…",
               "waiting": "waiting: another chat is using this model", "streaming": "answering…",
               "done": "done", "stopped": "stopped (partial answer kept)", "error": "failed"}
LEADERBOARD_COLUMNS = ["model", "rating (Bradley-Terry, 95% interval)", "online Elo", "battles", "wins",
                       "losses", "ties", "both bad", "imported"]


CODE_START = re.compile(
    r"^\s*(def |class |func |function |async |return\b|import |from \S+ import |#include|fn |let |const |var |"
    r"public |private |static |package |if |elif |else\b|for |while |try:|except\b|with |@\w|[{}\])]|"
    r".*[{;]\s*$|.*\)\s*(->.*)?:\s*$)")


def _looks_like_code(paragraph: list[str]) -> bool:
    indented = any(line[:1] in (" ", "\t") and line.strip() for line in paragraph)
    codeish = sum(1 for line in paragraph if CODE_START.match(line))
    return indented or codeish * 2 >= len(paragraph)


def fence_unfenced_code(text: str) -> str:
    """Markdown collapses a line's leading spaces; an answer that holds code without a ``` fence
    keeps its indentation when its code paragraphs are fenced (prose paragraphs stay prose)."""
    if "```" in text or "\n" not in text.strip():
        return text
    paragraphs = re.split(r"\n[ \t]*\n", text.strip("\n"))
    out: list[str] = []
    run: list[str] = []      # consecutive code paragraphs share one fence (blank lines kept)
    for para in paragraphs:
        if _looks_like_code(para.split("\n")):
            run.append(para)
            continue
        if run:
            out.append("```\n" + "\n\n".join(run) + "\n```")
            run = []
        out.append(para)
    if run:
        out.append("```\n" + "\n\n".join(run) + "\n```")
    return "\n\n".join(out)


def leaderboard_rows(rows: list[dict]) -> list[list]:
    """The arena table: each rating with its interval and battle count, or 'too few votes'."""
    from pipeline.chat.leaderboard import rating_text

    return [[r["model"], rating_text(r["bt"], r["bt_low"], r["bt_high"], r["battles"]),
             rating_text(r["elo"], r["elo_low"], r["elo_high"], r["battles"]),
             r["battles"], r["wins"], r["losses"], r["ties"], r["both_bad"], r.get("imported", 0)] for r in rows]


def build(ctx: StudioContext) -> None:
    state = gr.State({"chat_id": None, "models": None, "mode": None})
    run_key = gr.State(lambda: uuid.uuid4().hex)   # one per browser session: what Stop stops
    with gr.Row():
        mode = gr.Radio(["Single", "Side by side", "Battle"], value="Single", label="Mode", elem_id="chat-mode",
                        info="Battle: two random models, names hidden until you vote")
        n_cols = gr.Slider(2, MAX_COLS, value=2, step=1, label="Models side by side", visible=False)
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password")
    system = gr.Textbox(label="System prompt", lines=1, placeholder="You are a careful GDScript programmer.")
    pickers, chatbots, statuses, settings, cols = [], [], [], [], []
    with gr.Row(equal_height=False):
        for i in range(MAX_COLS):
            with gr.Column(visible=i == 0, min_width=280) as col:
                pickers.append(gr.Dropdown([], label=f"Model {LETTERS[i]}", elem_id=f"chat-model-{i}"))
                chatbots.append(gr.Chatbot(label=f"Model {LETTERS[i]}", height=420, elem_id=f"chat-bot-{i}",
                                           buttons=["copy"]))
                statuses.append(gr.Markdown("", elem_id=f"chat-status-{i}"))
                with gr.Accordion(f"Settings {LETTERS[i]}", open=False):
                    settings.append([
                        gr.Slider(0, 2, value=0, step=0.05, label="Temperature"),
                        gr.Slider(0.05, 1, value=1, step=0.05, label="Top-p"),
                        gr.Slider(16, 2048, value=256, step=16, label="Max new tokens"),
                        gr.Slider(1, 2, value=1, step=0.05, label="Repetition penalty"),
                        gr.Number(None, label="Seed (empty = random)", precision=0),
                        gr.Textbox(label="Stop words (comma separated)"),
                    ])
            cols.append(col)
    prompt = gr.Textbox(label="Message", lines=3, placeholder="Ask something; Shift+Enter for a new line",
                        elem_id="chat-input")
    with gr.Row():
        send_btn = gr.Button("Send", variant="primary", elem_id="chat-send")
        stop_btn = gr.Button("Stop", variant="stop")
        regen_btn = gr.Button("Regenerate")
        new_btn = gr.Button("New conversation")
        unload_btn = gr.Button("Unload all models")
    with gr.Row(visible=False) as vote_row:
        vote_btns = {k: gr.Button(label, elem_id=f"vote-{k}") for k, label in VOTE_LABELS.items()}
    reveal = gr.Markdown("", elem_id="chat-reveal")
    with gr.Accordion("Send an answer to the Pairs table", open=False):
        with gr.Row():
            pair_col = gr.Radio(list(LETTERS), value="A", label="Answer of model")
            pair_btn = gr.Button("Send this answer as a draft pair")
        corrected = gr.Textbox(label="Corrected answer (optional: used instead of the model's text)", lines=4)
        keep_context = gr.Checkbox(True, label="Keep the conversation before it",
                                   info="the pair holds the earlier turns and the system prompt; unticked: only "
                                        "this turn, noted as sent without its context", elem_id="chat-keep-context")
    with gr.Accordion("Leaderboard", open=False):
        lb_refresh = gr.Button("Refresh leaderboard")
        leaderboard = gr.Dataframe(headers=LEADERBOARD_COLUMNS, interactive=False, elem_id="chat-leaderboard",
                                   label="Bradley-Terry and Elo ratings with 95% bootstrap intervals")
        winrate = gr.Plot(label="Win rate")
        with gr.Row():
            battles_in = gr.File(label="FastChat battles to import (.json / .jsonl)", file_types=[".json", ".jsonl"],
                                 type="filepath", elem_id="chat-battles-file")
            with gr.Column():
                battles_import_btn = gr.Button("Import votes", elem_id="chat-battles-import")
                battles_export_btn = gr.Button("Export votes as FastChat battles", elem_id="chat-battles-export")
        battles_note = gr.Markdown(elem_id="chat-battles-note")
        battles_out = gr.File(label="FastChat battle file (elo_analysis.py reads it)", interactive=False)
    with gr.Accordion("Conversations", open=False):
        chats_table = gr.Dataframe(headers=["id", "updated", "mode", "turns", "models", "title"],
                                   interactive=False)
        with gr.Row():
            chat_pick = gr.Number(None, label="Conversation id", precision=0)
            open_btn = gr.Button("Open")
            delete_btn = gr.Button("Delete", variant="stop")
            export_btn = gr.Button("Export all as JSONL")
            to_pairs_btn = gr.Button("All its answers → pairs")
        export_file = gr.File(label="Export", interactive=False)

    settings_flat = [c for group in settings for c in group]

    # -- helpers -------------------------------------------------------------------------
    def columns_for(mode_v, n, picks, system_v, flat) -> tuple[list[str], list[Column]]:
        count = 1 if mode_v == "Single" else (2 if mode_v == "Battle" else int(n))
        names = list(picks[:count])
        if mode_v != "Battle" and not all(names):
            raise gr.Error("Pick a model for every column (prepare the default one in the Models tab)")
        cols_ = []
        for i in range(count):
            t, p, mx, rp, seed, stop = flat[i * 6:(i + 1) * 6]
            s = ChatSettings(system=system_v or "", temperature=float(t), top_p=float(p), max_new_tokens=int(mx),
                             repetition_penalty=float(rp), seed=None if seed in (None, "") else int(seed),
                             stop=[w.strip() for w in (stop or "").split(",") if w.strip()])
            cols_.append(s)
        return names, cols_

    def views(chat: dict | None, states=None, hide=False) -> list:
        """Chatbot values for the 4 columns: saved turns, plus the answers streaming now."""
        out = []
        for i in range(MAX_COLS):
            msgs = []
            if chat is not None and i < len(chat["models"]):
                for m in chat["messages"]:
                    if m["role"] == "user":
                        msgs.append({"role": "user", "content": m["content"]})
                    elif m["col"] == i:
                        text = m["content"] or ""
                        if m["status"] == "error":
                            text += f"\n\n*error: {m['error']}*"
                        msgs.append({"role": "assistant", "content": fence_unfenced_code(text)})
                if states is not None and i < len(states):
                    s = states[i]
                    if not (msgs and msgs[-1]["role"] == "assistant" and s.finished):
                        msgs.append({"role": "assistant", "content": fence_unfenced_code(s.text) or "…"})
            out.append(msgs)
        return out

    def status_lines(states) -> list:
        lines = []
        for i in range(MAX_COLS):
            if states is None or i >= len(states):
                lines.append("")
                continue
            s = states[i]
            line = f"**{STATUS_TEXT.get(s.status, s.status)}**"
            if s.template:
                line += f" · template {s.template}"
            if s.first_token_s is not None and s.finished:
                line += f" · first token {s.first_token_s:.2f}s · {s.seconds:.1f}s"
            if s.notice:
                line += f"\n\n⚠️ {s.notice}"
            if s.error:
                line += f"\n\n❌ {s.error}"
            lines.append(line)
        return lines

    def stream(gen, st, names, cols_):
        store = ctx.store()
        chat = store.get_chat(st["chat_id"])
        for states in gen:
            yield [st, *views(chat, states), *status_lines(states), gr.update()]
        yield [st, *views(store.get_chat(st["chat_id"])), *status_lines(states), gr.update(value="")]

    # -- callbacks ------------------------------------------------------------------------
    @ui_errors
    def do_send(st, key, mode_v, n, sys_v, text, rkey, *rest):
        picks, flat = list(rest[:MAX_COLS]), list(rest[MAX_COLS:])
        check_prompt(text)
        store = ctx.store()
        names, col_settings = columns_for(mode_v, n, picks, sys_v, flat)
        st = dict(st)
        decided = st.get("chat_id") and st.get("mode") == "battle" and store.vote_for_turn(
            st["chat_id"], last_turn(store.get_chat(st["chat_id"])) or 0)
        if mode_v == "Battle" and (st.get("mode") != "battle" or decided):
            names = pick_battle([m["name"] for m in store.list_models()])
            st["chat_id"] = None
        elif mode_v == "Battle":
            names = st["models"]
        if st.get("chat_id") is None or st.get("models") != names:
            mode_name = {"Single": "single", "Side by side": "side", "Battle": "battle"}[mode_v]
            st = {"chat_id": new_chat(store, names, mode=mode_name, system=sys_v or ""), "models": names,
                  "mode": mode_name}
        labels = [f"Model {LETTERS[i]}" if mode_v == "Battle" else names[i] for i in range(len(names))]
        columns = [Column(n_, s, label) for n_, s, label in zip(names, col_settings, labels)]
        yield from stream(send(store, st["chat_id"], text, columns, run_key=rkey, api_key=key or None),
                          st, names, columns)

    @ui_errors
    def do_regen(st, key, mode_v, n, sys_v, rkey, *rest):
        if not st.get("chat_id"):
            raise gr.Error("Nothing to regenerate: send a message first")
        _, col_settings = columns_for("Side by side", len(st["models"]), list(st["models"]) + [None] * 4,
                                      sys_v, list(rest[MAX_COLS:]))
        columns = [Column(n_, s) for n_, s in zip(st["models"], col_settings)]
        yield from stream(regenerate(ctx.store(), st["chat_id"], columns, run_key=rkey, api_key=key or None),
                          st, st["models"], columns)

    def layout(mode_v, n):
        count = 1 if mode_v == "Single" else (2 if mode_v == "Battle" else int(n))
        return ([gr.update(visible=mode_v == "Side by side")]
                + [gr.update(visible=i < count) for i in range(MAX_COLS)]
                + [gr.update(visible=mode_v != "Battle") for _ in range(MAX_COLS)]
                + [gr.update(visible=count == 2)])

    def do_new():
        return [{"chat_id": None, "models": None, "mode": None}, *views(None), *status_lines(None), ""]

    @ui_errors
    def do_vote(st, winner):
        if not st.get("chat_id"):
            raise gr.Error("Send a prompt to two models before voting")
        result = vote(ctx.store(), st["chat_id"], winner)
        return (f"Vote stored: **{VOTE_LABELS[winner]}**. Model A was **{result['a']}**, "
                f"model B was **{result['b']}**."), *leaderboard_view()

    @ui_errors
    def leaderboard_view():
        from pipeline.chat.leaderboard import arena_leaderboard, win_rate_figure

        return leaderboard_rows(arena_leaderboard(ctx.store())), win_rate_figure(ctx.store())

    @ui_errors
    def do_pair(st, letter, fixed, keep):
        if not st.get("chat_id"):
            raise gr.Error("No conversation yet")
        chat = ctx.store().get_chat(st["chat_id"])
        col = LETTERS.index(letter)
        answers = [m for m in chat["messages"] if m["role"] == "assistant" and m["col"] == col and m["content"]]
        if not answers:
            raise gr.Error(f"Model {letter} has no answer in this conversation")
        ids = send_to_pairs(ctx.store(), st["chat_id"], message_id=answers[-1]["id"],
                            output=fixed if fixed and fixed.strip() else None, keep_context=bool(keep))
        gr.Info(f"Pair {ids[0]} added as a draft (origin chat): review it in the Pairs tab")

    @ui_errors
    def list_chats():
        from pipeline.chat.arena import shown_models

        return [[c["id"], c["updated_at"][:16], c["mode"], c["turns"], ", ".join(shown_models(c)), c["title"] or ""]
                for c in ctx.store().list_chats()]

    @ui_errors
    def do_open(chat_id):
        if chat_id is None:
            raise gr.Error("Give a conversation id from the list")
        chat = ctx.store().get_chat(int(chat_id))
        st = {"chat_id": chat["id"], "models": chat["models"], "mode": chat["mode"]}
        mode_v = {"single": "Single", "side": "Side by side", "battle": "Battle"}[chat["mode"]]
        from pipeline.chat.arena import is_blind

        # An unvoted battle keeps its names out of the pickers (and so out of the page and the API).
        picks = [gr.update(value=chat["models"][i]) if i < len(chat["models"]) and not is_blind(chat)
                 else gr.update() for i in range(MAX_COLS)]
        return [st, mode_v, max(2, len(chat["models"])), chat["system"], *picks, *views(chat)]

    @ui_errors
    def do_delete(st, chat_id):
        if chat_id is None:
            raise gr.Error("Give a conversation id from the list")
        delete_chat(ctx.store(), int(chat_id))
        gr.Info(f"Deleted conversation {int(chat_id)} (its votes and pairs stay)")
        if st.get("chat_id") == int(chat_id):
            st = {"chat_id": None, "models": None, "mode": None}
        return st, list_chats()

    @ui_errors
    def do_export():
        import tempfile
        from pathlib import Path

        from pipeline.paths import area_dir

        # Under the data folder: the only place a logged-in user of a hosted studio may write.
        area_dir("exports").mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix="chats-", dir=area_dir("exports"))) / "conversations.jsonl"
        n = export_jsonl(ctx.store(), None, path)
        gr.Info(f"Exported {n} conversation(s)")
        return str(path)

    @ui_errors
    def do_all_pairs(chat_id, keep):
        if chat_id is None:
            raise gr.Error("Give a conversation id from the list")
        ids = send_to_pairs(ctx.store(), int(chat_id), keep_context=bool(keep))
        gr.Info(f"{len(ids)} draft pair(s) added (origin chat)")

    @ui_errors
    def refresh_models(*current):
        """New models appear in every column; a column keeps the model the person picked."""
        names = [m["name"] for m in ctx.store().list_models()]
        return [gr.update(choices=names, value=current[i] if current[i] in names else
                          (names[i % len(names)] if names else None)) for i in range(MAX_COLS)]

    def do_unload():
        from pipeline import models

        gr.Info(f"Unloaded {models.unload()} model(s)")

    # -- wiring -----------------------------------------------------------------------------
    stream_outputs = [state, *chatbots, *statuses, prompt]
    common = [state, api_key, mode, n_cols, system]
    send_event = send_btn.click(do_send, [*common, prompt, run_key, *pickers, *settings_flat], stream_outputs,
                                concurrency_id="chat", concurrency_limit=8)
    submit_event = prompt.submit(do_send, [*common, prompt, run_key, *pickers, *settings_flat], stream_outputs,
                                 concurrency_id="chat", concurrency_limit=8)
    regen_event = regen_btn.click(do_regen, [*common, run_key, *pickers, *settings_flat], stream_outputs,
                                  concurrency_id="chat", concurrency_limit=8)
    # Stop tells the columns to end (their partial answers are saved), then cancels the page's stream.
    stop_btn.click(lambda k: stop_run(k) and None, run_key, None, cancels=[send_event, submit_event, regen_event])
    for c in (mode, n_cols):
        c.change(layout, [mode, n_cols], [n_cols, *cols, *pickers, vote_row])
    mode.change(do_new, None, [state, *chatbots, *statuses, reveal])
    new_btn.click(do_new, None, [state, *chatbots, *statuses, reveal])
    for key_, btn in vote_btns.items():
        btn.click(lambda st, k=key_: do_vote(st, k), state, [reveal, leaderboard, winrate])
    lb_refresh.click(leaderboard_view, None, [leaderboard, winrate])
    pair_btn.click(do_pair, [state, pair_col, corrected, keep_context], None)
    open_btn.click(do_open, chat_pick, [state, mode, n_cols, system, *pickers, *chatbots])
    delete_btn.click(do_delete, [state, chat_pick], [state, chats_table])
    export_btn.click(do_export, None, export_file)
    to_pairs_btn.click(do_all_pairs, [chat_pick, keep_context], None)
    battles_import_btn.click(ui_errors(lambda f: import_battles_file(ctx.store(), f)), battles_in, battles_note).then(
        leaderboard_view, None, [leaderboard, winrate])
    battles_export_btn.click(ui_errors(lambda: export_battles_file(ctx.store())), None, battles_out)
    unload_btn.click(do_unload)
    ctx.on_load(refresh_models, pickers, pickers)
    ctx.on_load(list_chats, None, chats_table)
    ctx.on_load(leaderboard_view, None, [leaderboard, winrate])


if __name__ == "__main__":   # python -m studio.chat_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
