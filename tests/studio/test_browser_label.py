"""The Label tab in a real browser: estimate, run a job against a local endpoint, watch it finish."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_tab
from tests.label_helpers import add_snippets, register_endpoint
from tests.label_openai_server import LabelServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_estimate_then_run_a_labelling_job(studio_page, studio_server):
    _, home = studio_server
    store = Store(home / "studio.db")
    with LabelServer(latency_s=0.01) as server:
        add_snippets(store, 5, language="browserlang")  # a language of its own: other tests' snippets stay out
        register_endpoint(store, server, name="browser-labeller", price=(1.0, 2.0, 0.5))
        server.faults["snippet_3"] = ["empty"]
        page = studio_page
        open_tab(page, "Label")
        page.locator("#label-refresh").click()
        page.locator("#label-model input").click()
        page.get_by_role("option", name="browser-labeller").click()
        page.locator("#label-language textarea").fill("browserlang")
        page.locator("#label-estimate-btn").click()
        page.wait_for_selector("#label-estimate :text('5 snippets')")
        assert "$" in page.locator("#label-estimate").inner_text()
        page.locator("#label-run-btn").click()
        page.wait_for_selector("#label-job[data-status='done']", timeout=60_000)
        assert "4 labelled, 1 failed" in page.locator("#label-job").inner_text()
        page.wait_for_function("document.querySelector('#label-failed').innerText.includes('empty reply')")
        page.locator("#label-retry-btn").click()
        page.wait_for_selector("#label-job[data-status='done'] :text('1 labelled, 0 failed')", timeout=60_000)
    store.close()
