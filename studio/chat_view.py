"""What the Chat tab shows: the four chatbots' messages (saved turns plus the answers streaming
now, unfenced code fenced so its indentation survives Markdown), each column's status line, and
the leaderboard's rows. Pure functions from the store's rows and pipeline.chat's column states to
Gradio values, tested without a browser."""
from __future__ import annotations

import re

from pipeline.chat import ColumnState

MAX_COLS = 4
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


def views(chat: dict | None, states: list[ColumnState] | None = None) -> list[list[dict]]:
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


def status_lines(states: list[ColumnState] | None) -> list[str]:
    """The line under each column: what it is doing, its template, timings, notices, errors."""
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
