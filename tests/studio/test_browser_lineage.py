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
from evals.passk.suites import import_humaneval
from pipeline.pairs.export import freeze_dataset
from pipeline.store import open_store
from tests.pairs_helpers import add_repo_with_snippets, label
store = open_store()
repo_id, snippets = add_repo_with_snippets(store, "lineage/demo", ["func a():\\n\\treturn 1\\n"])
store.update_repo(repo_id, commit_sha="feedfacecafebeef")
label(store, snippets[0], "Write a", "func a():\\n\\treturn 1\\n", status="approved", repo_id=repo_id)
d = freeze_dataset(store, "lineage-demo", {"repo": "lineage/demo"})
run = store.create_run("lineage-run", {}, status="done", dataset_id=d["id"], dataset=d["name"],
                       dataset_version=d["version"], base_model="lineage-base", method="lora")
store.register_model("lineage-ckpt", "local", "/nowhere", run_id=run["id"])
import_humaneval(store)
e = store.create_eval("humaneval", "lineage-ckpt", {})
print(e)
"""


def test_click_from_a_score_to_the_commit_and_back(studio_page, studio_server):
    _, home = studio_server
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    eval_ref = f"eval:{out.stdout.strip()}"
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
