"""The judge panel and the Compare page in a real browser: a judged eval started from the Evals
tab against a local judge server finishes, its scores and bias figures show, and the Compare page
lists both models with the judge score and exports CSV and Markdown."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_accordion, open_tab
from tests.judge.judge_server import JudgeServer, add_suite, register_models, shown_order

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def pick(page, selector: str, option: str) -> None:
    page.locator(f"{selector} input").click()
    page.get_by_role("option", name=option, exact=True).first.click()


def test_a_judged_eval_from_the_panel_shows_scores_bias_and_the_compare_page(studio_server, studio_page):
    _, home = studio_server
    verdict = lambda prompt, attempt: f"Fine.\nRating: [[{8 if shown_order(prompt)[0] == 'beta' else 5}]]"
    with JudgeServer(verdict) as server:
        store = Store(home / "studio.db")
        register_models(store, server)
        add_suite(store, 5, name="browser-judge")   # 10 judgments: the fewest a result may rest on
        page = studio_page
        page.reload()
        page.wait_for_selector("text=CodeTune Studio")
        open_tab(page, "Evals")
        open_accordion(page, "Judge answers with a model", "#judge-run")
        pick(page, "#judge-model", "judge")
        pick(page, "#judge-contestants", "alpha")
        pick(page, "#judge-contestants", "beta")
        pick(page, "#judge-suite", "browser-judge")
        page.locator("#judge-estimate").click()
        page.wait_for_selector("#judge-estimate-text :text('10 requests')")   # 5 items x 2 contestants
        assert server.requests == 0
        page.locator("#judge-run").click()
        page.wait_for_selector("#judge-job[data-status=done]", timeout=90_000)
        assert "python -m evals judge run" in page.locator("#judge-cli").inner_text()
        page.wait_for_function("() => document.querySelector('#judge-results').innerText.includes('Bias figures')")
        results = page.locator("#judge-results").inner_text()
        assert "length correlation: 1.000" in results
        assert "| beta | 8.0 | 5 |" in page.locator("#judge-results").inner_html() or \
            ("beta" in results and "8.0" in results and "5.0" in results)

        open_tab(page, "Compare")
        page.locator("#compare-refresh").click()
        page.wait_for_function("() => document.querySelector('#compare-board').innerText.includes('8.00')")
        board = page.locator("#compare-board").inner_text()
        assert "alpha" in board and "5.00" in board and "judged eval" in board
        page.locator("#compare-export").click()
        # Gradio's file list shows a name as stem + extension in two spans: look for both files' stems.
        page.wait_for_function("() => (document.querySelector('#compare-files').innerText"
                               ".match(/leaderboard/g) || []).length >= 2", timeout=30_000)
        files = page.locator("#compare-files").inner_text()
        assert ".csv" in files and ".md" in files

        # Each number links to its eval: the judge score opens the judged eval in the Evals tab.
        page.locator("#compare-board [role=gridcell]", has_text="8.00").first.click()   # visible cells
        page.wait_for_function("() => (document.querySelector('#judge-run-pick input') || {value: ''})"
                               ".value.includes('alpha, beta')")
        page.locator("#judge-results").wait_for(state="visible")   # the judge accordion opened
        # ...and scrolled into view, not left below the fold of the tab it switched to
        page.wait_for_function("() => { const r = document.querySelector('#judge-results').getBoundingClientRect();"
                               " return r.top >= 0 && r.top < window.innerHeight; }", timeout=10_000)
        assert "beta" in page.locator("#judge-results").inner_text()
