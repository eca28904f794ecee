"""The whole road in a real browser, from an empty store: the Quickstart tab walks curate → label →
review → freeze → LoRA fine-tune → pass@k of base and tuned (tiny models, so it fits in CI), then
base and tuned chat side by side, the Compare page shows both, and the Lineage tab follows the
tuned model's score back to the commit its code came from. `make screenshots` runs it with
STUDIO_SCREENSHOTS set to refresh the README's pictures."""
from __future__ import annotations

import subprocess

import pytest

from tests.browser import open_tab, running_studio, shot
from tests.curate_repos import make_repo
from tests.quickstart_helpers import SOURCE

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def road_studio(tmp_path_factory):
    """A studio of its own, so the road starts from an empty store."""
    home = tmp_path_factory.mktemp("road-home")
    with running_studio(home, timeout=120) as url:
        yield url, home


def pick(page, dropdown: str, option: str) -> None:
    box = page.locator(dropdown)
    box.locator("input").click()
    box.get_by_role("option", name=option, exact=True).click()


def test_the_whole_road_from_an_empty_store(road_studio, browser, tiny_model_dir, tmp_path):
    url, _ = road_studio
    source = make_repo(tmp_path / "textkit", [("first text helpers", SOURCE)])
    commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator("#quickstart-intro").get_by_text("New here?").wait_for()   # an empty store starts here
    shot(page, "quickstart")

    # Every tab is one click from the quickstart; register the tiny base model in Models.
    page.locator("#quickstart-go-models").click()
    page.get_by_text("Register a model").click()
    page.locator("#model-name textarea").fill("tiny-base")
    page.locator("#model-path textarea").fill(str(tiny_model_dir))
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_selector("text=Registered tiny-base")

    open_tab(page, "Quickstart")
    page.locator("#quickstart-source textarea").fill(str(source))
    page.locator("#quickstart-subdir textarea").fill("")
    pick(page, "#quickstart-base", "tiny-base")
    page.locator("#quickstart-train-steps input").fill("2")
    page.locator("#quickstart-tasks input").fill("1")
    page.locator("#quickstart-run").click()
    page.wait_for_function(
        "() => document.querySelector('#quickstart-cli textarea').value.includes('quickstart run')", timeout=120_000)
    page.locator("#quickstart-steps li[data-state='running']").first.wait_for()   # live progress while it works
    page.wait_for_function(
        "() => document.querySelectorAll(\"#quickstart-steps li[data-state='done']\").length === 8",
        timeout=1_200_000, polling=2000)
    # The job itself ends a moment after its last step (final bookkeeping), on a later poll.
    page.wait_for_function("() => ['done', 'failed', 'cancelled', 'interrupted'].includes("
                           "document.querySelector('#quickstart-job .job-row').dataset.status)",
                           timeout=60_000, polling=1000)
    status = page.locator("#quickstart-job .job-row").get_attribute("data-status")
    assert status == "done", page.locator("#quickstart-job").inner_text()
    steps = page.locator("#quickstart-steps").inner_text()
    assert "checkpoint quickstart-lora" in steps and "pass@1" in steps
    shot(page, "quickstart-done")
    tuned = next(line.split("checkpoint ")[1].split(" ")[0] for line in steps.splitlines() if "checkpoint " in line)

    # Base and tuned side by side in Chat.
    page.locator("#quickstart-go-chat").click()
    page.locator("#chat-mode").get_by_text("Side by side").click()
    page.locator("#chat-model-1").wait_for(state="visible")
    pick(page, "#chat-model-0", "tiny-base")
    pick(page, "#chat-model-1", tuned)
    page.locator("#chat-input textarea").fill("Count the words in a text.")
    page.locator("#chat-send").click()
    for column in (0, 1):
        page.wait_for_function(
            f"() => document.querySelector('#chat-status-{column}').innerText.includes('done')", timeout=180_000)
    shot(page, "chat")

    # The comparison page shows both models' pass@1.
    open_tab(page, "Compare")
    page.locator("#compare-refresh").click()
    board = page.locator("#compare-board")
    board.get_by_text(tuned).filter(visible=True).first.wait_for()   # tables keep hidden copies of cells
    board.get_by_text("tiny-base").filter(visible=True).first.wait_for()
    shot(page, "compare")
    # A number links to its eval: the tuned model's pass@1 opens that eval's drill-down in Evals.
    board.locator("[role=row]", has_text=tuned).first.locator("[role=gridcell][data-col='1']").click()
    # (the Evals tab was never opened on this page: its picker mounts when the link opens the tab)
    page.wait_for_function(f"() => (document.querySelector('#evals-pick input') || {{value: ''}})"
                           f".value.includes({tuned!r})")

    # Lineage: the tuned model's score back to the commit its code came from.
    open_tab(page, "Lineage")
    pick(page, "#lineage-pick", "eval:2")
    up = page.locator("#lineage-up")
    up.get_by_text("repo local/textkit").filter(visible=True).first.wait_for()
    text = up.inner_text()
    assert tuned in text and "dataset quickstart@1" in text and commit[:12] in text
    shot(page, "lineage")
    page.close()
