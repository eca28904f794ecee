"""The Train tab in a real browser: configure a LoRA run of a tiny model, read the command
preview, start it, watch the loss plot grow, and find its checkpoint in the Models list."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_accordion, open_tab
from tests.train_helpers import freeze_dataset, register_tiny

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def points(page) -> int:
    return int(page.locator("#train-status").get_attribute("data-points") or 0)


def pick(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_configure_preview_start_and_watch_a_lora_run(studio_page, studio_server, tiny_model_dir):
    _, home = studio_server
    store = Store(home / "studio.db")
    register_tiny(store, tiny_model_dir, name="browser-tiny")
    freeze_dataset(store, name="browser-toy")
    page = studio_page
    open_tab(page, "Train")
    page.locator("#train-refresh").click()
    pick(page, "train-base_model", "browser-tiny")
    pick(page, "train-dataset", "browser-toy@1")
    page.locator("#train-run_name textarea").fill("browser-lora")
    # Long enough (a tiny model does a few steps a second, fewer on a loaded machine) for the plot
    # to be seen growing, short enough to end well inside the wait below.
    page.locator("#train-max_steps input").fill("80")
    page.locator("#train-max_length input").fill("256")
    page.locator("#train-learning_rate input").fill("0.02")
    open_accordion(page, "More training settings", "#train-logging_steps")
    page.locator("#train-logging_steps input").fill("1")
    page.locator("#train-preview-btn").click()
    page.wait_for_function("document.querySelector('#train-preview').innerText.includes('accelerate.commands.launch')")
    assert "fits" in page.locator("#train-estimate").inner_text()
    page.locator("#train-start").click()
    page.wait_for_selector("#train-status[data-run-id]", timeout=60_000)
    page.wait_for_function("Number(document.querySelector('#train-status').dataset.points) >= 2", timeout=240_000)
    first = points(page)
    page.wait_for_function(f"Number(document.querySelector('#train-status').dataset.points) > {first}",
                           timeout=240_000)
    assert page.locator("#train-loss-plot").is_visible()
    page.wait_for_selector("#train-status[data-status='done']", timeout=480_000)
    assert points(page) == 80
    open_tab(page, "Models")
    page.get_by_role("button", name="Refresh").first.click()
    page.wait_for_function("document.querySelector('#models-table').innerText.includes('browser-lora-step80')",
                           timeout=30_000)
    store.close()
