"""Label storage: versioned prompts, editable prices, the idempotency key, snippet selection."""
from __future__ import annotations

import sqlite3

import pytest

from pipeline.label.labeller import save_label_prompt
from pipeline.store import NotFoundError, StoreError
from tests.label_helpers import add_repo, add_snippets


def labelled(snippet_id, status="draft", instruction="Write it.", **extra):
    return {"origin": "label", "snippet_id": snippet_id, "labeller": "m", "prompt_version": "describe@1",
            "status": status, "instruction": instruction, "output": "code", **extra}


def test_default_prompt_is_seeded_and_edits_save_new_versions(store):
    first = store.get_prompt_template("describe")
    assert first["version"] == 1 and "{code}" in first["template"] and "{context}" in first["template"]
    assert "Never include code" in first["system"] and "name the programming language" in first["system"]
    saved = save_label_prompt(store, "describe", "Describe {language} code:\n{code}", "Be brief.")
    assert saved["version"] == 2
    assert store.get_prompt_template("describe", 1)["template"] == first["template"]  # never overwritten
    assert store.get_prompt_template("describe")["version"] == 2
    again = save_label_prompt(store, "describe", "Describe {language} code:\n{code}", "Be brief.")
    assert again["version"] == 2  # unchanged text: no duplicate version


@pytest.mark.parametrize("template, system, fragment", [
    ("Describe {code} in {lang}", None, "{lang}"),
    ("Describe the function", None, "{code}"),
    ("Describe {code} {", None, "cannot be parsed"),
    ("Describe {code}", "You are {persona}", "{persona}"),
])
def test_bad_templates_are_refused_with_the_reason(store, template, system, fragment):
    with pytest.raises(StoreError, match=fragment.replace("{", r"\{").replace("}", r"\}")):
        save_label_prompt(store, "mine", template, system)
    with pytest.raises(NotFoundError):
        store.get_prompt_template("mine")


def test_prices_are_seeded_and_editable(store):
    assert store.get_price("gpt-4o-mini")["input_per_mtok"] > 0
    assert store.get_price("SmolLM2-135M-Instruct")["output_per_mtok"] == 0
    store.set_price("gpt-4o-mini", 0.2, 0.8, 0.5)
    assert store.get_price("gpt-4o-mini") == {"model": "gpt-4o-mini", "input_per_mtok": 0.2,
                                              "output_per_mtok": 0.8, "batch_discount": 0.5}
    for bad in [(-1, 1, 0.5), (1, 1, 1.0), ("x", 1, 0.5)]:
        with pytest.raises(StoreError):
            store.set_price("gpt-4o-mini", *bad)
    assert store.get_price("gpt-4o-mini")["input_per_mtok"] == 0.2


def test_the_label_key_is_unique_in_the_database(store):
    (sid,) = add_snippets(store, 1)
    store.record_label(labelled(sid))
    with pytest.raises(sqlite3.IntegrityError):
        store.db["pairs"].insert(labelled(sid, instruction="another"))
    assert store.count("pairs") == 1


def test_a_result_replaces_a_failed_pair_but_never_a_good_or_reviewed_one(store):
    a, b = add_snippets(store, 2)
    failed_id = store.record_label(labelled(a, status="failed", instruction="", error="empty reply"))
    assert store.record_label(labelled(a, instruction="Write A.")) == failed_id
    row = store.row("pairs", failed_id)
    assert (row["status"], row["instruction"], row["error"]) == ("draft", "Write A.", None)
    assert store.record_label(labelled(a, instruction="Overwrite?")) == failed_id
    assert store.row("pairs", failed_id)["instruction"] == "Write A."
    approved = store.record_label(labelled(b, instruction="Write B."))
    store.db["pairs"].update(approved, {"status": "approved", "instruction": "Human edit"})
    store.record_label(labelled(b, status="failed", error="late"))
    assert store.row("pairs", approved)["instruction"] == "Human edit"
    assert store.count("pairs") == 2


def test_ledger_rows_are_written_with_the_pair(store):
    (sid,) = add_snippets(store, 1)
    store.record_label(labelled(sid, status="failed", error="empty reply"),
                       {"job_id": 7, "outcome": "rejected", "tokens_in": 10, "tokens_out": 1, "cost": 0.5})
    store.record_label(labelled(sid), {"job_id": 7, "tokens_in": 10, "tokens_out": 5, "cost": 0.25})
    assert store.label_spend(7) == {"requests": 2, "tokens_in": 20, "tokens_out": 6, "cost": 0.75}
    assert store.label_spend(8)["requests"] == 0


def test_selection_filters_and_skips_labelled_and_duplicate_snippets(store):
    godot = add_repo(store, "octo/game", "4.x")
    other = add_repo(store, "octo/tools", None, "python")
    gd = add_snippets(store, 3, language="gdscript", repo_id=godot)
    py = add_snippets(store, 3, language="python", repo_id=other, start=10)
    store.db["snippets"].update(py[2], {"duplicate_of": py[0]})
    store.record_label(labelled(gd[0]))
    pick = lambda **kw: [s["id"] for s in store.snippets_for_labelling("m", "describe@1", **kw)]
    assert pick() == gd[1:] + py[:2]
    assert pick(language="GDScript") == gd[1:]
    assert pick(repo="octo/tools") == py[:2] and pick(repo=str(other)) == py[:2]
    assert pick(limit=1) == [gd[1]]
    first = store.snippets_for_labelling("m", "describe@1", language="gdscript")[0]
    assert (first["repo"], first["engine_version"]) == ("octo/game", "4.x")
    assert [s["id"] for s in store.snippets_for_labelling("other-model", "describe@1")] == gd + py[:2]
