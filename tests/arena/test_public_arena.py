"""The public arena (pipeline.arena): anonymous visitors chat with published models only, within
limits, vote once per battle under an anonymous id, and the owner excludes a voter's votes.
In-process tests on a real store and a tiny real model, then one visitor over HTTP."""
from __future__ import annotations

import random

import pytest

from pipeline import access, arena
from pipeline.access import AccessDenied, Principal, Role
from pipeline.store import ConflictError

VISITOR = Principal(Role.VISITOR, "", "session-one")
OTHER = Principal(Role.VISITOR, "", "session-two")
LIMITS = arena.ArenaLimits(messages_per_minute=100, max_prompt_chars=200, max_new_tokens=8)


@pytest.fixture
def published(monkeypatch, store, tiny_model_dir):
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    monkeypatch.delenv("STUDIO_PRINCIPAL", raising=False)
    with access.acting_as(access.OWNER):
        for name in ("tiny-a", "tiny-b", "secret-c"):
            store.register_model(name, "local", str(tiny_model_dir), template="alpaca")
        arena.publish(store, "tiny-a")
        arena.publish(store, "tiny-b")
    arena._sent.clear()
    return store


def _chat(store, chat_id, text="def add(a, b):"):
    return list(arena.send(store, chat_id, text, max_new_tokens=4, limits=LIMITS))[-1]


def test_a_visitor_chats_only_with_published_models(published):
    with access.acting_as(VISITOR):
        with pytest.raises(AccessDenied, match="not published"):
            arena.start(published, "single", ["secret-c"])
        chat_id = arena.start(published, "single", ["tiny-a"])
        final = _chat(published, chat_id)
    assert final[0].status == "done"


def test_a_battle_picks_two_published_models_and_hides_their_names(published):
    with access.acting_as(VISITOR):
        chat_id = arena.start(published, "battle", rng=random.Random(3))
        final = _chat(published, chat_id)
    assert sorted(published.get_chat(chat_id)["models"]) == ["tiny-a", "tiny-b"]
    assert [s.label for s in final] == ["Model A", "Model B"]


def test_limits_refuse_with_a_message_that_says_which(published):
    tight = arena.ArenaLimits(messages_per_minute=2, max_prompt_chars=10, max_new_tokens=8)
    arena.check_limits(VISITOR, "hi", 8, tight, now=0.0)
    arena.check_limits(VISITOR, "hi", 8, tight, now=1.0)
    with pytest.raises(arena.LimitReached, match="2 messages a minute per visitor; try again in 59 s"):
        arena.check_limits(VISITOR, "hi", 8, tight, now=1.5)
    arena.check_limits(VISITOR, "hi", 8, tight, now=61.0)          # the window moved on
    arena.check_limits(OTHER, "hi", 8, tight, now=1.5)             # per visitor, not global
    with pytest.raises(arena.LimitReached, match="at most 10 characters"):
        arena.check_limits(OTHER, "x" * 11, 8, tight)
    with pytest.raises(arena.LimitReached, match="at most 8 new tokens"):
        arena.check_limits(OTHER, "hi", 9, tight)
    arena.check_limits(access.OWNER, "x" * 500, 500, tight)        # the owner has none


def test_one_vote_per_battle_signed_by_the_anonymous_session(published):
    with access.acting_as(VISITOR):
        chat_id = arena.start(published, "battle")
        _chat(published, chat_id)
        arena.vote(published, chat_id, "a")
        with pytest.raises(ConflictError):
            arena.vote(published, chat_id, "b")
    [vote] = published.arena_votes()
    assert vote["voter"] == arena.voter_id(VISITOR) and vote["voter"].startswith("anon-")
    assert "session-one" not in vote["voter"]


def test_another_session_cannot_send_to_or_vote_on_a_visitors_battle(published):
    with access.acting_as(VISITOR):
        chat_id = arena.start(published, "battle")
        _chat(published, chat_id)
    with access.acting_as(OTHER):
        with pytest.raises(AccessDenied, match="belongs to another session"):
            arena.vote(published, chat_id, "a")
        with pytest.raises(AccessDenied, match="belongs to another session"):
            _chat(published, chat_id)
    assert published.count_votes() == 0


def test_the_owner_excludes_a_visitors_votes_from_the_leaderboard(published):
    for who in (VISITOR, OTHER):
        with access.acting_as(who):
            chat_id = arena.start(published, "side", ["tiny-a", "tiny-b"])
            _chat(published, chat_id)
            arena.vote(published, chat_id, "a" if who is VISITOR else "b")
    with access.acting_as(VISITOR), pytest.raises(AccessDenied):
        arena.exclude(published, arena.voter_id(VISITOR))
    with access.acting_as(access.OWNER):
        assert {r["model"]: r["wins"] for r in arena.leaderboard(published, rounds=10)} == {"tiny-a": 1, "tiny-b": 1}
        assert arena.exclude(published, arena.voter_id(VISITOR)) == 1
        board = {r["model"]: r["wins"] for r in arena.leaderboard(published, rounds=10)}
        votes = arena.votes(published)
    assert board == {"tiny-b": 1, "tiny-a": 0}
    assert published.count_votes() == 2 and sorted(v["counted"] for v in votes) == [0, 1]


def test_a_visitor_cannot_publish_or_read_the_votes(published):
    with access.acting_as(VISITOR):
        for op in (lambda: arena.publish(published, "secret-c"), lambda: arena.votes(published),
                   lambda: arena.leaderboard(published)):
            with pytest.raises(AccessDenied, match="see and moderate arena votes"):
                op()
    assert published.published_models() == ["tiny-a", "tiny-b"]


@pytest.mark.slow
def test_an_anonymous_visitor_over_http(tmp_path, tiny_model_dir):
    from pipeline.store import Store
    from tests.access.hosted_server import client, launch, stop

    store = Store(tmp_path / "studio.db")
    with access.acting_as(access.OWNER):
        for name in ("tiny-a", "tiny-b"):
            store.register_model(name, "local", str(tiny_model_dir), template="alpaca")
            store.publish_model(name)
    proc, url = launch(tmp_path, {"STUDIO_HOSTED": "1", "STUDIO_AUTH": "owner:pw", "STUDIO_OWNERS": "owner",
                                  "STUDIO_PUBLIC_ARENA": "1", "STUDIO_ARENA_MESSAGES_PER_MINUTE": "2",
                                  "STUDIO_ARENA_MAX_NEW_TOKENS": "16"})
    try:
        visitor = client(url + "/")
        assert {d.get("api_name") for d in visitor.config["dependencies"]} & {"do_push", "do_register"} == set()
        a, b, note = visitor.predict("Battle (names hidden)", None, None, "def add(a, b):", 16, api_name="/arena_send")
        assert a[-1]["role"] == "assistant" and b[-1]["role"] == "assistant" and "Vote" in note
        revealed = visitor.predict(api_name="/arena_vote_a")
        assert "tiny-a" in revealed and "tiny-b" in revealed
        with pytest.raises(Exception, match="already been voted on"):
            visitor.predict(api_name="/arena_vote_b")
        visitor.predict("Battle (names hidden)", None, None, "def sub(a, b):", 16, api_name="/arena_send")
        with pytest.raises(Exception, match="2 messages a minute per visitor"):
            visitor.predict("Battle (names hidden)", None, None, "def mul(a, b):", 16, api_name="/arena_send")
        fresh = client(url + "/")
        fresh.predict(None, None, api_name="/offered")     # the page's load: this session's choices
        with pytest.raises(Exception, match="16"):           # over the visitor's token limit
            fresh.predict("Single model", "tiny-a", None, "hi", 32, api_name="/arena_send")
        [vote] = store.arena_votes()
        assert vote["voter"].startswith("anon-") and vote["winner"] == "a"
    finally:
        stop(proc)


@pytest.mark.slow
def test_a_visitor_battles_and_votes_in_a_browser_without_logging_in(tmp_path, tiny_model_dir, browser):
    from pipeline.store import Store
    from tests.access.hosted_server import launch, stop

    store = Store(tmp_path / "studio.db")
    with access.acting_as(access.OWNER):
        for name in ("tiny-a", "tiny-b"):
            store.register_model(name, "local", str(tiny_model_dir), template="alpaca")
            store.publish_model(name)
    proc, url = launch(tmp_path, {"STUDIO_HOSTED": "1", "STUDIO_AUTH": "owner:pw", "STUDIO_OWNERS": "owner",
                                  "STUDIO_PUBLIC_ARENA": "1", "STUDIO_ARENA_MAX_NEW_TOKENS": "16"})
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.set_default_timeout(60_000)
    try:
        page.goto(url + "/")
        page.wait_for_selector("text=CodeTune Arena")
        assert page.get_by_role("tab").count() == 0          # nothing of the studio on this page
        page.locator("#arena-input textarea").fill("def add(a, b):")
        page.locator("#arena-send").click()
        page.wait_for_selector("#arena-outcome >> text=Vote for the better answer")
        page.locator("#arena-vote-a").click()
        page.wait_for_selector("#arena-outcome >> text=was tiny-")
        assert "tiny-a" in page.locator("#arena-outcome").inner_text()
        [vote] = store.arena_votes()
        assert vote["voter"].startswith("anon-") and vote["winner"] == "a"
    finally:
        page.close()
        stop(proc)
