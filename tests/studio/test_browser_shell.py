"""The studio in a real browser: every tab opens, and a real job's progress bar reaches done."""
from __future__ import annotations

import pytest

from tests.browser import open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_every_tab_opens(studio_page):
    import app

    titles = [t[0] if isinstance(t, tuple) else __import__(t, fromlist=["TITLE"]).TITLE for t in app.TABS]
    for title in titles:
        open_tab(studio_page, title)
        assert studio_page.get_by_role("tab", name=title, exact=True).get_attribute("aria-selected") == "true"


def test_settings_show_keys_and_hardware(studio_page):
    open_tab(studio_page, "Settings")
    summary = studio_page.locator("#settings-summary")
    assert "OPENAI_API_KEY" in summary.inner_text()
    studio_page.wait_for_selector("#settings-hardware :text('GPU')")


def test_prepare_default_model_job_reaches_done(studio_page):
    open_tab(studio_page, "Models")
    studio_page.get_by_role("button", name="Prepare the embedded default model").click()
    open_tab(studio_page, "Jobs")
    # Its own row: other tests' jobs share this studio's list.
    row = studio_page.locator(".job-row[data-status]", has_text="Prepare SmolLM2-135M-Instruct").first
    row.wait_for()
    seen = set()
    for _ in range(600):  # the bar must move through running to done
        seen.add(row.get_attribute("data-status"))
        if "done" in seen:
            break
        studio_page.wait_for_timeout(250)
    assert "done" in seen, f"statuses seen: {seen}"
    assert float(row.locator("progress").get_attribute("value")) == 100.0
    open_tab(studio_page, "Models")
    # The model is registered and offered to try (typing filters the dropdown: a table of every
    # model the session registered may have scrolled it out of view).
    studio_page.locator("#models-refresh").click()
    box = studio_page.locator("#try-model input")
    box.click()
    box.press("Control+a")          # the dropdown shows its current pick: replace it with the filter
    box.press_sequentially("SmolLM2")
    studio_page.get_by_role("option", name="SmolLM2-135M-Instruct", exact=True).first.wait_for(timeout=60_000)


def test_a_broken_model_gives_a_clear_message_and_the_app_keeps_running(studio_page):
    open_tab(studio_page, "Models")
    studio_page.get_by_text("Register a model").click()
    studio_page.locator("#model-name textarea").fill("broken")
    studio_page.locator("#model-path textarea").fill("/nonexistent/model")
    studio_page.get_by_role("button", name="Register", exact=True).click()
    studio_page.wait_for_selector("text=Registered broken")
    studio_page.locator("#try-model input").click()
    studio_page.get_by_role("option", name="broken").click()
    studio_page.get_by_role("button", name="Generate").click()
    studio_page.wait_for_selector("text=model folder /nonexistent/model does not exist")
    open_tab(studio_page, "Jobs")  # still serving
    studio_page.wait_for_selector("#job-progress")


def test_a_job_picked_in_the_jobs_tab_shows_its_row_and_log(studio_page, studio_server):
    from pipeline.store import Store

    _, home = studio_server
    store = Store(home / "studio.db")
    job_id = store.create_job("prepare_model", {}, "Picked job")
    store.finish_job(job_id, "failed", error="RuntimeError: for the picker test")
    open_tab(studio_page, "Jobs")
    studio_page.locator("#jobs-refresh").click()
    studio_page.locator("#job-pick input").click()
    studio_page.get_by_role("option", name=f"{job_id} · Picked job · failed").click()
    studio_page.get_by_text("for the picker test").first.wait_for()
    studio_page.get_by_role("button", name="Resume").click()  # a failed job can be resumed
    studio_page.wait_for_selector(f".job-row[data-job-id='{job_id}'][data-status='running'], "
                                  f".job-row[data-job-id='{job_id}'][data-status='done']")
