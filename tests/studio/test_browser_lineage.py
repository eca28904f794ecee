"""Lineage in the browser: from a score back to the repo and its commit, and forward again,
by clicking rows."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser import ROOT, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SETUP = """
from pipeline.store import open_store
from tests.lineage.chain import lineage_chain
print(lineage_chain(open_store())["eval"])
"""


def test_click_from_a_score_to_the_commit_and_back(studio_page, studio_server):
    _, home = studio_server
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    eval_ref = out.stdout.strip()
    page = studio_page
    open_tab(page, "Lineage")                                     # click 1
    page.locator("#lineage-pick input").fill(eval_ref)
    page.locator("#lineage-go").click()
    page.locator("#lineage-up").get_by_text("lineage-run").first.wait_for()
    page.locator("#lineage-up").get_by_text("repo lineage/demo").first.wait_for()
    assert "feedfacecafe" in page.locator("#lineage-up").inner_text()
    # the answer first: the repo and its whole commit, above the long tables
    sources = page.locator("#lineage-sources")
    sources.get_by_text("lineage/demo").first.wait_for()
    assert sources.bounding_box()["y"] < page.locator("#lineage-up").bounding_box()["y"]
    page.locator("#lineage-up").get_by_text("repo lineage/demo").first.click()   # click 2: re-centre
    page.locator("#lineage-focus").get_by_text("repo lineage/demo").wait_for()
    page.locator("#lineage-down").get_by_text(eval_ref).first.wait_for()         # and the score it fed
    assert page.locator("#lineage-cli textarea").input_value().startswith("python -m pipeline lineage repo:")
