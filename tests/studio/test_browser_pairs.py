"""The Pairs tab in a real browser: search, pick a pair, edit and approve it (the next pair opens),
then run a cleaning job and freeze a dataset."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def visible_text(page, container: str, text: str):
    """The visible element inside `container` showing `text` (tables keep hidden copies of cells)."""
    found = page.locator(container).get_by_text(text).filter(visible=True).first
    found.wait_for(timeout=60_000)
    return found


@pytest.fixture
def zebra_pairs(studio_server):
    _, home = studio_server
    store = Store(home / "studio.db")
    store.insert_imported_pairs([
        {"instruction": f"Zebrafish task {i}", "output": f"def zebrafish_{i}(school):\n    return len(school) * {i + 2}\n",
         "language": "python", "import_ref": f"browser-zebra:{i}"} for i in range(3)])
    ids = store.pair_ids({"search": "zebrafish"})
    yield store, ids
    store.close()


def test_edit_and_approve_moves_to_the_next_pair(studio_page, zebra_pairs):
    store, ids = zebra_pairs
    page = studio_page
    open_tab(page, "Pairs")
    search = page.locator("#pairs-search textarea, #pairs-search input").first
    search.fill("zebrafish")
    search.press("Enter")
    visible_text(page, "#pairs-summary", "3")
    visible_text(page, "#pairs-table", "Zebrafish task 0").click()
    page.wait_for_function("document.querySelector('#pair-instruction textarea').value === 'Zebrafish task 0'")
    page.locator("#pair-instruction textarea").fill("Count a school of zebrafish, doubled")
    page.locator("#pair-approve").click()
    page.wait_for_function("document.querySelector('#pair-instruction textarea').value === 'Zebrafish task 1'")
    first = store.get_pair(ids[0])
    assert (first["status"], first["instruction"]) == ("approved", "Count a school of zebrafish, doubled")
    assert [e["field"] for e in store.pair_history(ids[0])] == ["instruction", "status"]
    visible_text(page, "#pairs-table", "Count a school of zebrafish, doubled")


def test_clean_job_and_freeze_a_dataset(studio_page, zebra_pairs):
    store, _ = zebra_pairs
    page = studio_page
    open_tab(page, "Pairs")
    page.get_by_role("tab", name="Clean", exact=True).click()
    page.locator("#clean-run").click()
    page.wait_for_selector("#clean-job[data-status='done']", timeout=120_000)
    visible_text(page, "#clean-counts", "Flagged now")
    page.get_by_role("tab", name="Datasets", exact=True).click()
    page.locator("#dataset-name textarea, #dataset-name input").first.fill("browser-zebra")
    page.locator("#dataset-freeze").click()
    visible_text(page, "#datasets-table", "browser-zebra")
    assert store.get_dataset("browser-zebra")["size"] >= 3
    # export the frozen dataset as a `datasets` folder, through a job
    page.get_by_label("disk").check()
    page.locator("#dataset-export").click()
    from pipeline import jobs

    job = None
    for _ in range(240):
        found = store.list_jobs(kind="export_dataset")
        if found and found[0]["status"] not in ("queued", "running"):
            job = store.get_job(found[0]["id"])
            break
        page.wait_for_timeout(250)
    assert job is not None and job["status"] == "done", jobs.tail_log(found[0]["id"]) if found else "no job"
    from datasets import load_from_disk

    assert len(load_from_disk(job["result"]["path"])) >= 3
