"""Issue 26's UI in a real browser: a local repo with a token and an e-mail curates through the
Repos tab; the Repos table, the review table and the snippet say what was replaced (never the
value); the dataset card of a freeze previews in Pairs › Datasets."""
from __future__ import annotations

import random

import pytest

from tests.browser import open_accordion, open_tab
from tests.curate_repos import make_repo
from tests.scrub_corpus import function, plant

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def visible_text(page, container: str, text: str):
    found = page.locator(container).get_by_text(text).filter(visible=True).first
    found.wait_for(timeout=120_000)
    return found


def test_scrubbed_snippets_are_reviewable_and_the_card_previews(studio_page, studio_server, tmp_path):
    from identify.vendor.licenses import LICENSES

    from pipeline.pairs.export import freeze_dataset
    from pipeline.store import Store

    token, line = plant(random.Random(9), "github_token")
    repo = make_repo(tmp_path / "leaky-tools", [("init", {
        "LICENSE": dict(LICENSES)["MIT"].replace("[year]", "2025").replace("[fullname]", "A B"),
        "tools.py": function(random.Random(8), 1, line) + "\n\ndef mail():\n    x = 1\n    return 'lee.ann@corp-mail.com'\n"})])
    page = studio_page
    open_tab(page, "Repos")
    page.get_by_text("Add a repo by name or a local folder").click()
    page.locator("#repos-local-path textarea, #repos-local-path input").first.fill(str(repo))
    page.get_by_role("button", name="Add local").click()
    visible_text(page, "#repos-table", "local/leaky-tools")
    page.get_by_role("button", name="Start curate job").click()
    page.wait_for_selector("#curate-job[data-status='done']", timeout=120_000)
    visible_text(page, "#repos-table", "email 1, token 1")

    open_accordion(page, "Secrets and personal data replaced or held back", "#scrub-review")
    page.locator("#scrub-review").click()
    visible_text(page, "#scrub-table", "token on line")
    visible_text(page, "#scrub-table", "email on line")
    visible_text(page, "#snippets-table", "mail").click()
    visible_text(page, "#snippet-provenance", "Replaced before storing")
    assert "license MIT" in page.locator("#snippet-provenance").inner_text()
    assert token not in page.content() and "lee.ann" not in page.content()

    _, home = studio_server
    store = Store(home / "studio.db")
    snippet_id = store.db.execute("SELECT id FROM snippets WHERE name = 'mail'").fetchone()[0]
    store.insert_imported_pairs([{"instruction": "Return the contact", "output": "x", "origin": "import",
                                  "import_ref": "browser-scrub:1"}])
    store.db.execute("UPDATE pairs SET snippet_id = ? WHERE import_ref = 'browser-scrub:1'", [snippet_id])
    store.db.conn.commit()
    pair_id = store.db.execute("SELECT id FROM pairs WHERE import_ref = 'browser-scrub:1'").fetchone()[0]
    freeze_dataset(store, "scrubbed-card", {"search": "contact"})
    assert store.get_dataset("scrubbed-card")["pair_ids"] == [pair_id]

    open_tab(page, "Pairs")
    page.get_by_role("tab", name="Datasets", exact=True).click()
    page.locator("#export-dataset input").first.fill("scrubbed-card")
    page.locator("#export-dataset input").first.press("Enter")
    open_accordion(page, "Dataset card (written on every hub push", "#dataset-card-preview")
    page.locator("#dataset-card-preview").click()
    visible_text(page, "#dataset-card", "local/leaky-tools")
    assert "email: 1" in page.locator("#dataset-card").inner_text()
