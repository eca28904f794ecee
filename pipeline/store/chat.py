"""Store area: conversations, messages, arena battles and votes (issue 12). Filled in by that stage; migrations append to MIGRATIONS."""
from __future__ import annotations

MIGRATIONS: list = []


class ChatMixin:
    pass
