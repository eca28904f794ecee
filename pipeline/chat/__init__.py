"""Chat stage: talk to checkpoints alone or side by side, let votes rank them, feed answers back.

    from pipeline.chat import ChatSettings, Column, new_chat, send
    chat_id = new_chat(store, ["SmolLM2-135M-Instruct", "my-ckpt"], mode="side")
    for snapshot in send(store, chat_id, "Reverse a list in GDScript", [Column("SmolLM2-135M-Instruct"),
                                                                        Column("my-ckpt")]):
        print([c.text for c in snapshot])

Entry points: `conversation` (new_chat, send, regenerate, export, send-to-pairs), `streaming`
(parallel columns, waiting state, Stop), `prompting` (the checkpoint's template, multi-turn
rendering, history cut to fit the context), `arena` (battles and votes), `leaderboard`
(`arena_leaderboard(store)`: Elo and Bradley-Terry with bootstrap intervals, win-rate matrix),
`fastchat_votes` (votes as FastChat battle records, both ways; imported ones marked).
CLI: `python -m pipeline chat talk|list|show|export|delete|to-pairs|vote|leaderboard|battles|unload`.

Chat is interactive, so it declares no job kinds: a reply streams in the caller's process, from
the model cache that every browser session shares (pipeline.models).
"""
from __future__ import annotations

from pipeline.errors import StudioError


class ChatError(StudioError):
    """A chat request cannot be served as asked (empty prompt, decided battle, …)."""


# Below ChatError, which these submodules import from here.
from pipeline.chat.conversation import (  # noqa: E402
    export_jsonl,
    new_chat,
    regenerate,
    send,
    send_to_pairs,
)
from pipeline.chat.settings import ChatSettings  # noqa: E402
from pipeline.chat.streaming import Column, ColumnState, stop_run  # noqa: E402

__all__ = ["ChatError", "ChatSettings", "Column", "ColumnState", "export_jsonl", "new_chat",
           "regenerate", "send", "send_to_pairs", "stop_run"]
