"""The Arena tab's handlers (the owner's side) and the public arena page's handlers, called
directly (no browser) on a real store as the owner, a logged-in user and anonymous visitors of
a hosted studio; the models are the tiny real model (a visitor may not call a paid endpoint)."""
from __future__ import annotations

import gradio as gr
import pytest

from pipeline import access, arena
from pipeline.access import Principal, Role
from studio import arena_tab, public_arena

VISITOR = Principal(Role.VISITOR, "", "session-one")
OTHER = Principal(Role.VISITOR, "", "session-two")
BATTLE = "Battle (names hidden)"


@pytest.fixture
def hosted(monkeypatch, store, tiny_model_dir):
    """A hosted studio with m1, m2 and m3 registered (none published yet)."""
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    monkeypatch.setenv("STUDIO_OWNERS", "owner")
    for name in ("STUDIO_PRINCIPAL", "STUDIO_ARENA_MESSAGES_PER_MINUTE", "STUDIO_ARENA_MAX_NEW_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    arena._sent.clear()   # the per-visitor rate windows live in the process
    with access.acting_as(access.OWNER):
        for name in ("m1", "m2", "m3"):
            store.register_model(name, "local", str(tiny_model_dir), template="alpaca")
    yield store
    arena._sent.clear()


@pytest.fixture
def published(hosted):
    with access.acting_as(access.OWNER):
        arena_tab.set_published("m1", True)
        arena_tab.set_published("m2", True)
    return hosted


def battle_round(principal: Principal = VISITOR, text: str = "def add(a, b):") -> tuple:
    """A visitor's battle: the last output of public_arena.send (state, chatbot A, chatbot B, note)."""
    with access.acting_as(principal):
        return list(public_arena.send(dict(public_arena.EMPTY), BATTLE, None, None, text, 8))[-1]


# -- the owner's Arena tab --------------------------------------------------------------------------
def test_the_owner_sees_an_empty_arena(hosted):
    with access.acting_as(access.OWNER):
        picker, line, board, votes = arena_tab.refresh()
    assert picker["choices"] == ["m1", "m2", "m3"] and picker["value"] == "m1"
    assert line == "Published: none yet" and board == [] and votes == []


def test_a_user_who_is_not_the_owner_is_told_why_instead_of_the_tables(hosted):
    with access.acting_as(Principal(Role.USER, "guest")):
        picker, line, board, votes = arena_tab.refresh("m2")
    assert picker["choices"] == [] and "owner's" in line and board == [] and votes == []


def test_publishing_needs_a_model_and_shows_what_is_published(hosted):
    with access.acting_as(access.OWNER):
        with pytest.warns(UserWarning, match="Pick a model first"):
            assert arena_tab.set_published(None, True) == gr.skip()
        picker, line, _, _ = arena_tab.set_published("m2", True)
        assert picker["value"] == "m2" and line == "Published: `m2`"
        _, line, _, _ = arena_tab.set_published("m2", False)
    assert line == "Published: none yet" and hosted.published_models() == []


def test_a_user_cannot_publish(hosted):
    with access.acting_as(Principal(Role.USER, "guest")), pytest.warns(UserWarning, match="refused"):
        assert arena_tab.set_published("m3", True) == gr.skip()
    assert hosted.published_models() == []


def test_excluding_a_voter_stops_counting_their_votes_and_back(published, capsys):
    state, *_ = battle_round()
    with access.acting_as(VISITOR):
        public_arena.cast(state, "a")
    with access.acting_as(access.OWNER):
        _, _, board, votes = arena_tab.refresh()
        [vote] = votes
        voter = vote[arena_tab.VOTES.index("voter")]
        assert voter.startswith("anon-") and vote[arena_tab.VOTES.index("counted")] == 1
        assert sum(row[arena_tab.BOARD.index("battles")] for row in board) == 2
        _, _, board, votes = arena_tab.set_excluded(f" {voter} ", True)
        assert votes[0][arena_tab.VOTES.index("counted")] == 0
        assert sum(row[arena_tab.BOARD.index("battles")] for row in board) == 0
        assert f"1 vote(s) of {voter} no longer count" in capsys.readouterr().out
        _, _, _, votes = arena_tab.set_excluded(voter, False)
    assert votes[0][arena_tab.VOTES.index("counted")] == 1 and published.count_votes(counted_only=True) == 1


def test_excluding_nobody_or_an_unknown_voter_is_refused(hosted):
    with access.acting_as(access.OWNER):
        with pytest.warns(UserWarning, match="name the voter"):
            assert arena_tab.set_excluded("", True) == gr.skip()
        with pytest.warns(UserWarning, match="no votes from"):
            arena_tab.set_excluded("anon-nobody", True)


# -- the public arena page ----------------------------------------------------------------------------
def test_a_visitor_is_offered_only_published_models(published):
    with access.acting_as(VISITOR):
        a, b = public_arena.offered()
        assert a["choices"] == b["choices"] == ["m1", "m2"] and (a["value"], b["value"]) == ("m1", "m2")
        a, b = public_arena.offered("m2", "m3")   # a pick still published stays; m3 is not
    assert (a["value"], b["value"]) == ("m2", "m2")


def test_an_empty_arena_offers_nothing(hosted):
    with access.acting_as(VISITOR):
        a, b = public_arena.offered()
    assert a["choices"] == [] and a["value"] is None and b["value"] is None


def test_a_battle_streams_two_hidden_answers_then_the_vote_reveals_them(published):
    state, bot_a, bot_b, note = battle_round()
    assert state["mode"] == "battle" and not state["voted"] and "Vote for the better answer" in note
    for bot in (bot_a, bot_b):
        assert [m["role"] for m in bot] == ["user", "assistant"] and bot[0]["content"] == "def add(a, b):"
    assert state["turns"] == [bot_a, bot_b]
    with access.acting_as(VISITOR):
        state, reveal = public_arena.cast(state, "b")
        assert state["voted"] and "B is better" in reveal
        assert sorted(name for name in ("m1", "m2") if f"**{name}**" in reveal) == ["m1", "m2"]
        with pytest.raises(gr.Error, match="already been voted on"):
            public_arena.cast(state, "a")
        again = list(public_arena.send(state, BATTLE, None, None, "def sub(a, b):", 8))[-1][0]
    assert again["chat_id"] != state["chat_id"] and not again["voted"]   # a vote ends the round


def test_another_visitor_cannot_vote_on_a_visitors_battle(published):
    state, *_ = battle_round(VISITOR)
    with access.acting_as(OTHER), pytest.raises(gr.Error, match="belongs to another session"):
        public_arena.cast(state, "a")
    assert published.count_votes() == 0


def test_a_visitor_cannot_pick_an_unpublished_model_or_pass_the_limits(published):
    with access.acting_as(VISITOR):
        with pytest.raises(gr.Error, match="not published"):
            list(public_arena.send(dict(public_arena.EMPTY), "Single model", "m3", None, "hi", 8))
        with pytest.raises(gr.Error, match="at most 256 new tokens"):
            list(public_arena.send(dict(public_arena.EMPTY), "Single model", "m1", None, "hi", 100_000))
        with pytest.raises(gr.Error, match="Send a message first"):
            public_arena.cast(dict(public_arena.EMPTY), "a")


def test_a_single_model_round_asks_for_no_vote(published):
    with access.acting_as(VISITOR):
        state, bot_a, bot_b, note = list(public_arena.send(dict(public_arena.EMPTY), "Single model", "m2", None,
                                                           "hi", 8))[-1]
    assert state["mode"] == "single" and bot_a[-1]["role"] == "assistant" and bot_b == [{"role": "user", "content": "hi"}]
    assert note == ""
    assert published.get_chat(state["chat_id"])["models"] == ["m2"]


def test_the_mode_shows_its_pickers_and_starts_a_fresh_round():
    shown = [u["visible"] for u in public_arena.show_mode("Side by side")[:3]]
    assert shown == [True, True, True]
    assert [u["visible"] for u in public_arena.show_mode(BATTLE)[:3]] == [False, False, True]
    assert [u["visible"] for u in public_arena.show_mode("Single model")[:3]] == [True, False, False]
    assert public_arena.show_mode("Single model")[3:] == (public_arena.EMPTY, [], [], "")
    assert public_arena.new_round() == (public_arena.EMPTY, [], [], "")

