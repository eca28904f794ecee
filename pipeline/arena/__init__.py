"""The public arena: anonymous visitors chat with the models the owner published, and vote.

    python -m pipeline arena publish gd-lora-step200        # the owner publishes a model
    python -m pipeline arena votes                           # newest votes with their voter
    python -m pipeline arena exclude anon-3f2a9c1b0d4e       # that visitor's votes stop counting

Every operation asks the gate (pipeline.access, capability ARENA, or MODERATE for the owner's
side). A visitor is known only by an anonymous id derived from the browser session
(`voter_id`): it owns the conversations it started (nobody else sends to them or votes on
them) and signs its votes, one per battle (the store refuses a second). Per-visitor limits
(`ArenaLimits`, from STUDIO_ARENA_* variables) refuse with a message that says which limit and
when to retry; the owner has none. Concurrency is bounded by Gradio's queue (the arena's
generate events share one concurrency id; studio/public_arena.py).

Not protected: a visitor who reloads the page gets a new session id (and a fresh rate window);
votes are anonymous, so the owner excludes by session id, not by person.
"""
from __future__ import annotations

import collections
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from pipeline import access
from pipeline.access import AccessDenied, Cap, Principal, Role, Target
from pipeline.errors import ConfigError


class LimitReached(AccessDenied):
    """A visitor's limit was hit; the message says which and when to try again."""


@dataclass
class ArenaLimits:
    messages_per_minute: int = field(default=6, metadata={
        "help": "messages one visitor may send per minute (STUDIO_ARENA_MESSAGES_PER_MINUTE)"})
    max_prompt_chars: int = field(default=2000, metadata={
        "help": "longest message a visitor may send, in characters (STUDIO_ARENA_MAX_PROMPT_CHARS)"})
    max_new_tokens: int = field(default=256, metadata={
        "help": "most tokens a model writes per answer for a visitor (STUDIO_ARENA_MAX_NEW_TOKENS)"})
    concurrency: int = field(default=2, metadata={
        "help": "answers generated at once for all visitors; the rest wait in Gradio's queue "
                "(STUDIO_ARENA_CONCURRENCY)"})
    queue_size: int = field(default=64, metadata={
        "help": "visitors who may wait in the queue before new ones are told to come back "
                "(STUDIO_ARENA_QUEUE_SIZE)"})

    @classmethod
    def from_env(cls, env=None) -> ArenaLimits:
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f"STUDIO_ARENA_{f.name.upper()}")
            if raw not in (None, ""):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ConfigError(f"STUDIO_ARENA_{f.name.upper()} must be a whole number, got {raw!r}") from None
        limits = cls(**values)
        bad = [f.name for f in fields(cls) if getattr(limits, f.name) < 1]
        if bad:
            raise ConfigError(f"arena limits must be at least 1: {', '.join(bad)}")
        return limits


def voter_id(principal: Principal) -> str:
    """The anonymous id a visitor's conversations and votes carry (never the raw session)."""
    if principal.role != Role.VISITOR:
        return principal.name or principal.role.value
    digest = hashlib.sha256(f"arena:{principal.session}".encode()).hexdigest()[:12]
    return f"anon-{digest}"


# -- per-visitor rate window (one server process: a Space) ------------------------------------
_sent: dict[str, collections.deque] = collections.defaultdict(collections.deque)
_sent_lock = threading.Lock()


def check_limits(principal: Principal, prompt: str, max_new_tokens: int, limits: ArenaLimits,
                 now: float | None = None) -> None:
    """Refuse a visitor's message over a limit (the owner has none); counts it when it passes."""
    if principal.role == Role.OWNER:
        return
    if len(prompt or "") > limits.max_prompt_chars:
        raise LimitReached(f"limit: messages here are at most {limits.max_prompt_chars:,} characters; "
                           f"this one has {len(prompt):,}")
    if max_new_tokens > limits.max_new_tokens:
        raise LimitReached(f"limit: answers here are at most {limits.max_new_tokens} new tokens; "
                           f"lower the setting (asked {max_new_tokens})")
    now = time.monotonic() if now is None else now
    with _sent_lock:
        window = _sent[voter_id(principal)]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= limits.messages_per_minute:
            wait = int(60 - (now - window[0])) + 1
            raise LimitReached(f"limit: {limits.messages_per_minute} messages a minute per visitor; "
                               f"try again in {wait} s")
        window.append(now)


# -- the operations ----------------------------------------------------------------------------
def published(store) -> list[str]:
    return store.published_models()


def start(store, mode: str, models: list[str] | None = None, rng: random.Random | None = None) -> int:
    """A new arena conversation: `single` (one model), `side` (two named), `battle` (two picked at
    random among the published, hidden until the vote). Only published models."""
    from pipeline.chat import new_chat
    from pipeline.chat.arena import pick_battle

    offered = store.published_models()
    if mode == "battle":
        models = pick_battle(offered, rng)
    models = [m for m in (models or []) if m]
    want = {"single": 1, "side": 2, "battle": 2}.get(mode)
    if want is None:
        raise ConfigError(f"arena mode {mode!r}: use single, side or battle")
    if len(models) != want:
        raise ConfigError(f"{mode} needs {want} model{'s' if want > 1 else ''}; "
                          f"published: {', '.join(offered) or 'none yet'}")
    principal = access.require(Cap.ARENA, Target(published=all(m in offered for m in models),
                                                 what=f"chat with {', '.join(models)}"))
    return new_chat(store, models, mode=mode, owner=voter_id(principal))  # written together


def _own(store, chat_id: int, principal: Principal) -> dict:
    chat = store.get_chat(chat_id)
    if principal.role != Role.OWNER and store.chat_owner(chat_id) != voter_id(principal):
        raise AccessDenied("refused: this conversation belongs to another session; start your own")
    return chat


def send(store, chat_id: int, prompt: str, *, max_new_tokens: int = 256, temperature: float = 0.0,
         limits: ArenaLimits | None = None) -> Iterator[list]:
    """Send a visitor's message to the conversation's columns (names hidden in a battle), within
    the limits; yields the columns' states as they stream (pipeline.chat.send)."""
    from pipeline.chat import ChatSettings, Column
    from pipeline.chat import send as chat_send

    limits = limits or ArenaLimits.from_env()
    offered = store.published_models()
    chat = store.get_chat(chat_id)
    principal = access.require(Cap.ARENA, Target(published=all(m in offered for m in chat["models"]),
                                                 what=f"chat in conversation {chat_id}"))
    _own(store, chat_id, principal)
    check_limits(principal, prompt, int(max_new_tokens), limits)
    settings = ChatSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature))
    hidden = chat["mode"] == "battle"
    columns = [Column(m, settings, label=f"Model {'AB'[i]}" if hidden else m) for i, m in enumerate(chat["models"])]
    yield from chat_send(store, chat_id, prompt, columns)


def vote(store, chat_id: int, winner: str) -> dict:
    """One vote per battle (or side-by-side turn), signed with the visitor's anonymous id."""
    from pipeline.chat.arena import vote as chat_vote

    principal = access.require(Cap.ARENA, Target(what=f"vote on conversation {chat_id}"))
    _own(store, chat_id, principal)
    return chat_vote(store, chat_id, winner, voter=voter_id(principal))  # the vote carries its voter


# -- the owner's side --------------------------------------------------------------------------
def publish(store, name: str, published_: bool = True) -> None:
    access.require(Cap.MODERATE, Target(what=f"{'publish' if published_ else 'unpublish'} {name}"))
    store.publish_model(name, published_)


def votes(store, limit: int = 1000) -> list[dict]:
    access.require(Cap.MODERATE, Target(what="see the votes"))
    return store.arena_votes(limit)


def exclude(store, voter: str, excluded: bool = True) -> int:
    access.require(Cap.MODERATE, Target(what=f"exclude the votes of {voter}"))
    return store.exclude_voter(voter.strip(), excluded)


def leaderboard(store, rounds: int = 200) -> list[dict]:
    """The leaderboard with its bootstrap intervals, counting only votes that are not excluded."""
    from pipeline.chat.leaderboard import arena_leaderboard

    access.require(Cap.MODERATE, Target(what="see the arena leaderboard"))
    return arena_leaderboard(store, rounds=rounds)
