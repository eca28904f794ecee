"""The Chat tab in a real browser: two tiny models side by side answer, a vote moves the
leaderboard; a checkpoint folder (weights + codetune.json, as a training run leaves it) is chatted
with in its own template; an empty message is refused."""
from __future__ import annotations

import json
import shutil

import pytest

from pipeline.store import Store
from tests.browser import open_accordion, open_tab
from tests.helpers import build_tiny_model

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def chat_models(studio_server, tmp_path_factory):
    """Two tiny models and one checkpoint registered in the studio's own database."""
    _, home = studio_server
    root = tmp_path_factory.mktemp("chat-models")
    store = Store(home / "studio.db")
    for name, seed in (("tiny-a", 0), ("tiny-b", 1)):
        store.register_model(name, "local", str(build_tiny_model(root / name, seed=seed)), replace=True)
    ckpt = root / "run-1" / "checkpoint-final"
    shutil.copytree(root / "tiny-a", ckpt)
    (ckpt / "codetune.json").write_text(json.dumps({"template": "alpaca", "run_id": 1, "dataset": "d@1"}))
    store.register_model("ckpt-final", "local", str(ckpt), template="chat", replace=True)
    store.close()
    return ["tiny-a", "tiny-b", "ckpt-final"]


def pick(page, column: int, model: str) -> None:
    """Pick until the pick holds: the page's first refresh, still landing after a reload, would
    otherwise put the column back on its default model."""
    box = page.locator(f"#chat-model-{column}")
    value = f"document.querySelector('#chat-model-{column} input').value"
    for _ in range(5):
        box.locator("input").click()
        box.get_by_role("option", name=model, exact=True).click()
        page.wait_for_function(f"() => {value} === '{model}'")
        page.wait_for_timeout(1500)
        if page.evaluate(f"() => {value}") == model:
            return
    raise AssertionError(f"column {column} did not keep {model}")


def wait_done(page, column: int) -> None:
    page.wait_for_function(
        f"() => document.querySelector('#chat-status-{column}').innerText.includes('done')", timeout=90_000)


def test_side_by_side_answers_then_a_vote_changes_the_leaderboard(studio_page, chat_models):
    page = studio_page
    page.reload()
    page.wait_for_selector("text=CodeTune Studio")
    open_tab(page, "Chat")
    page.locator("#chat-mode").get_by_text("Side by side").click()
    page.locator("#chat-model-1").wait_for(state="visible")
    pick(page, 0, "tiny-a")
    pick(page, 1, "tiny-b")
    open_accordion(page, "Leaderboard", "#chat-leaderboard")
    assert "tiny-a" not in page.locator("#chat-leaderboard").inner_text()
    page.locator("#chat-input textarea").fill("def add(a, b):")
    page.locator("#chat-send").click()
    wait_done(page, 0)
    wait_done(page, 1)
    for column in (0, 1):  # each column shows the prompt and its own streamed answer
        bot = page.locator(f"#chat-bot-{column}")
        assert "def add(a, b):" in bot.inner_text()
        assert bot.locator("[data-testid=bot], .bot, .message.bot").count() >= 1
    page.locator("#vote-a").click()
    page.wait_for_selector("#chat-reveal :text('Model A was')")
    page.wait_for_function(
        "() => document.querySelector('#chat-leaderboard').innerText.includes('tiny-a')", timeout=60_000)
    board = page.locator("#chat-leaderboard").inner_text()
    assert "tiny-a" in board and "tiny-b" in board


def test_chat_with_a_training_checkpoint_uses_its_template(studio_page, chat_models):
    page = studio_page
    page.reload()
    page.wait_for_selector("text=CodeTune Studio")
    open_tab(page, "Chat")
    pick(page, 0, "ckpt-final")
    page.locator("#chat-send").click()  # empty message: refused, nothing sent
    page.get_by_text("empty prompt").first.wait_for()
    page.locator("#chat-input textarea").fill("Reverse a list")
    page.locator("#chat-send").click()
    wait_done(page, 0)
    assert "template alpaca" in page.locator("#chat-status-0").inner_text()
    assert "Reverse a list" in page.locator("#chat-bot-0").inner_text()
