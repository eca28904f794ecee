"""Own code in a real browser (issue 24): an eval started from the Evals tab's own-code panel runs as
a job, its items drill down to reference, answer and diff, and the Compare page says the verdict.
A studio of its own (app.py in a subprocess) over a store holding real curated repos; the models
are endpoints on the OpenAI-compatible test server."""
from __future__ import annotations

import pytest

from evals.owncode.run import OwnCodeConfig, run_owncode
from pipeline.models.templates import user_text
from pipeline.pairs.export import freeze_dataset
from pipeline.store import Store
from tests.browser import free_port, launch_studio, open_accordion, open_tab, stop, wait_served
from tests.openai_server import OpenAIServer
from tests.owncode_helpers import curate_and_label, make_code_repos

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def owncode_page(tmp_path, browser):
    home = tmp_path / "home"
    home.mkdir()
    store = Store(home / "studio.db")
    curate_and_label(store, make_code_repos(tmp_path / "repos"))
    freeze_dataset(store, "mycode", {"status": ["approved"]}, split={"test_fraction": 0.3})
    refs = {user_text(r["instruction"], r["input"]): r["output"]
            for r in store.pairs_by_ids(store.pair_ids(), columns="id, instruction, input, output")}

    def asked(body):
        return refs[next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")]

    with OpenAIServer(reply=lambda body: f"```python\n{asked(body)}\n```") as copy, \
            OpenAIServer(reply=lambda body: asked(body).splitlines()[0]) as first_line:
        store.register_model("copier", "openai", "test-model", endpoint=copy.url)
        store.register_model("oneliner", "openai", "test-model", endpoint=first_line.url)
        run_owncode(store, OwnCodeConfig(model="oneliner", dataset="mycode", doctests=False), log=lambda m: None)
        port = free_port()
        proc = launch_studio(home, port)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_served(url, proc)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(url)
            page.wait_for_selector("text=CodeTune Studio")
            yield page
            page.close()
        finally:
            stop(proc)


def pick(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=False).first.click()


def test_run_drill_down_and_verdict(owncode_page):
    page = owncode_page
    open_tab(page, "Evals")
    open_accordion(page, "Score a model on the code your dataset held out", "#owncode-run")
    pick(page, "#owncode-model", "copier")
    pick(page, "#owncode-dataset", "mycode@1")
    page.locator("#owncode-run").click()
    page.wait_for_selector("#owncode-job [data-status=done]", timeout=120_000)
    page.wait_for_function("() => document.querySelector('#owncode-evals').innerText.includes('copier')")
    assert "100.0" in page.locator("#owncode-evals").inner_text()
    pick(page, "#owncode-pick", "copier")
    page.wait_for_function("() => document.querySelector('#owncode-items').innerText.includes('100')")
    items = page.locator("#owncode-items")
    items.locator("[role=row]", has_text="Combine").filter(visible=True).first \
        .locator("[role=gridcell][data-col='0']").click()
    page.wait_for_selector("#owncode-scores :text('chrF')")
    assert "exact yes" in page.locator("#owncode-scores").inner_text()
    assert "(identical)" in page.locator("#owncode-diff").inner_text()

    open_tab(page, "Compare")
    pick(page, "#owncode-cmp-a", "oneliner")
    pick(page, "#owncode-cmp-b", "copier")
    page.locator("#owncode-compare").click()
    page.wait_for_selector("#owncode-verdict :text('copier beats oneliner on your held-out code')")
    assert "95 % CI" in page.locator("#owncode-verdict").inner_text()
