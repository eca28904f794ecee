"""The studio behaves as one app: a model registered in one tab shows up in the others without a
reload, and a refused action leaves its panel as it was, with the CLI's own message."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser import ROOT, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def register(page, name: str) -> None:
    open_tab(page, "Models")
    page.get_by_text("Register a model").click()
    page.locator("#model-name textarea").fill(name)
    page.locator("#model-path textarea").fill(f"/nonexistent/{name}")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_selector(f"text=Registered {name}")


def pick(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_model_registered_in_one_tab_appears_in_the_others(studio_page):
    page = studio_page
    open_tab(page, "Evals")   # both tabs were built and loaded before the model existed
    open_tab(page, "Label")
    register(page, "fresh-model")
    for tab, dropdown in (("Evals", "#evals-model"), ("Label", "#label-model")):
        open_tab(page, tab)
        page.locator(f"{dropdown} input").click()
        page.get_by_role("option", name="fresh-model", exact=True).wait_for()
        page.keyboard.press("Escape")


def cli_error(home, *args: str) -> str:
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "evals", "passk", "run", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    return out.stderr.strip().removeprefix("error: ")


def test_a_refused_count_keeps_the_panel_and_says_what_the_cli_says(studio_page, studio_server):
    page = studio_page
    _, home = studio_server
    register(page, "panel-model")
    open_tab(page, "Evals")
    pick(page, "#evals-model", "panel-model")
    page.locator("#evals-limit input").fill("1")
    page.locator("#evals-run").click()            # a real submission: its job row fills the panel
    row = page.locator("#evals-job .job-row")
    row.wait_for()
    job_id = row.get_attribute("data-job-id")

    for field, value, args in (("#evals-limit", "-3", ("--limit", "-3")),
                               ("#evals-n", "0", ("--n", "0"))):
        page.locator(f"{field} input").fill(value)
        page.locator("#evals-run").click()
        message = cli_error(home, "--model", "panel-model", *args)
        assert message in ("--limit must be at least 0 (got -3)", "--n-samples must be at least 1 (got 0)")
        # the same rule and limit; the panel names its own box where the CLI names its flag
        from evals.passk.generate import EvalConfig
        from studio.common import name_form_fields
        from studio.widgets import form_label

        form_label("limit", "First N tasks (0 = all)", EvalConfig)
        form_label("n_samples", "Samples per task (n)", EvalConfig)
        shown = name_form_fields(message, "EvalConfig")
        assert shown in ("“First N tasks (0 = all)” must be at least 0 (got -3)",
                         "“Samples per task (n)” must be at least 1 (got 0)")
        page.get_by_text(shown).first.wait_for()
        # The panel still shows the job it showed, not an error badge, and the button works again.
        assert page.locator("#evals-job .job-row").get_attribute("data-job-id") == job_id
        assert page.locator("#evals-run").is_enabled()
        page.locator(f"{field} input").fill("1")
    page.wait_for_timeout(500)
    assert page.locator("#evals-job .job-row").count() == 1
