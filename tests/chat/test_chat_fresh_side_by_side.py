"""Side by side on a fresh studio, as a new user meets it: the embedded SmolLM2 and a LoRA checkpoint
of it, neither loaded yet, asked at the same moment. Both used to fail at once ("Cannot copy out of
meta tensor") and break every later chat until a restart; now both answer, and so does a single
chat after them."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_tab, running_studio
from tests.chat.test_chat_browser import pick, wait_done
from tests.models.test_model_loading import make_adapter

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def fresh_studio(tmp_path_factory, smollm2_dir):
    home = tmp_path_factory.mktemp("fresh-chat-home")
    adapter = make_adapter(smollm2_dir, tmp_path_factory.mktemp("smol-lora") / "adapter")
    store = Store(home / "studio.db")
    store.register_model("smol", "local", str(smollm2_dir))
    store.register_model("smol-lora", "local", str(adapter), base=str(smollm2_dir))
    store.close()
    with running_studio(home, timeout=120) as url:   # started after the models are registered
        yield url, home


def test_base_and_tuned_side_by_side_answer_on_a_fresh_studio(fresh_studio, browser):
    url, home = fresh_studio
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("text=CodeTune Studio")
    open_tab(page, "Chat")
    page.locator("#chat-mode").get_by_text("Side by side").click()
    page.locator("#chat-model-1").wait_for(state="visible")
    pick(page, 0, "smol")
    pick(page, 1, "smol-lora")
    page.locator("#chat-input textarea").fill("Write a Python function that adds two numbers.")
    page.locator("#chat-send").click()
    for column in (0, 1):
        page.wait_for_function(
            f"() => document.querySelector('#chat-status-{column}').innerText.includes('done')", timeout=240_000)
        status = page.locator(f"#chat-status-{column}").inner_text()
        assert "fail" not in status and "error" not in status, status
        assert "meta tensor" not in page.locator(f"#chat-bot-{column}").inner_text()
    # ...and the studio keeps working: a single chat with the base afterwards answers too.
    page.locator("#chat-mode").get_by_text("Single").click()
    pick(page, 0, "smol")
    page.locator("#chat-input textarea").fill("Say hello.")
    page.locator("#chat-send").click()
    wait_done(page, 0)
    assert "meta tensor" not in (home / "app.log").read_text(errors="replace")
    page.close()
