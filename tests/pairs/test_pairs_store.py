"""The review store: filters, full-text search, pages, detail, edits with history, optimistic
concurrency, status changes, bulk actions, the label-vs-edit diff and stats — on a real SQLite file."""
from __future__ import annotations

import sqlite3

import pytest

from pipeline.store import ConflictError, NotFoundError, StoreError
from tests.pairs_helpers import add_pairs, add_repo_with_snippets, label

TEXT = ("instruction", "input", "output")


def seen_of(pair: dict) -> dict:
    return {f: pair[f] for f in TEXT}


@pytest.fixture
def mixed(store):
    """A labelled repo, imported pairs in two languages, one of each status."""
    repo_id, snippets = add_repo_with_snippets(store, "octo/game", ["func jump():\n\tvelocity.y = -400\n",
                                                                    "func die():\n\tqueue_free()\n"])
    labelled = [label(store, snippets[0], "Make the player jump", "func jump():\n\tvelocity.y = -400\n",
                      repo_id=repo_id),
                label(store, snippets[1], "Remove the node from the scene", "func die():\n\tqueue_free()\n")]
    imported = add_pairs(store, [
        {"instruction": "Reverse a string", "output": "def rev(s):\n    return s[::-1]\n", "language": "python"},
        {"instruction": "Sum a list of numbers", "output": "def total(xs):\n    return sum(xs)\n", "language": "python",
         "status": "approved"},
        {"instruction": "Parse a config file into a dictionary of settings", "input": "key=value lines",
         "output": "def parse(text):\n    return dict(l.split('=') for l in text.splitlines())\n",
         "language": "python", "status": "rejected"},
    ])
    return {"repo_id": repo_id, "snippets": snippets, "labelled": labelled, "imported": imported}


def test_filters_combine_and_count(store, mixed):
    assert store.query_pairs({"language": "python"})["total"] == 3
    assert store.query_pairs({"language": "python", "status": ["draft", "approved"]})["total"] == 2
    assert store.query_pairs({"origin": "label", "labeller": "test-model"})["total"] == 2
    assert store.query_pairs({"min_len": 60})["total"] == 1
    assert store.query_pairs({"max_len": 30})["total"] == 0


def test_repo_filter_finds_pairs_through_their_snippet(store, mixed):
    # The second labelled pair has no repo_id of its own; its snippet belongs to the repo.
    page = store.query_pairs({"repo": "octo/game"})
    assert sorted(r["id"] for r in page["rows"]) == sorted(mixed["labelled"])
    assert store.query_pairs({"repo": str(mixed["repo_id"])})["total"] == 2


def test_full_text_search_matches_words_and_prefixes(store, mixed):
    assert [r["id"] for r in store.query_pairs({"search": "reverse"})["rows"]] == [mixed["imported"][0]]
    assert store.query_pairs({"search": "queue_free"})["total"] == 1
    assert store.query_pairs({"search": "pars*"})["total"] == 1
    assert store.query_pairs({"search": "reverse", "status": "approved"})["total"] == 0


def test_search_with_fts_syntax_characters_is_taken_literally(store, mixed):
    # Quotes, colons and operators typed by a person must not become FTS5 syntax errors.
    assert store.query_pairs({"search": 'velocity.y = "-400" AND OR NEAR( :'})["total"] == 0
    assert store.query_pairs({"search": "velocity.y"})["total"] == 1
    with pytest.raises(StoreError, match="no words"):
        store.query_pairs({"search": '" * :'})


def test_search_follows_edits(store, mixed):
    pid = mixed["imported"][0]
    pair = store.get_pair(pid)
    store.edit_pair(pid, {"instruction": "Flip a string backwards"}, seen=seen_of(pair))
    assert store.query_pairs({"search": "backwards"})["total"] == 1
    assert store.query_pairs({"search": "reverse"})["total"] == 0


def test_pages_and_total(store):
    add_pairs(store, [{"instruction": f"task number {i}", "output": f"x = {i}"} for i in range(23)])
    first = store.query_pairs({}, page=1, page_size=10)
    last = store.query_pairs({}, page=3, page_size=10)
    assert (first["total"], first["pages"], len(first["rows"]), len(last["rows"])) == (23, 3, 10, 3)
    assert first["rows"][0]["id"] < last["rows"][-1]["id"]


def test_unknown_filter_values_are_refused_clearly(store):
    with pytest.raises(StoreError, match="unknown status 'done'"):
        store.query_pairs({"status": "done"})
    with pytest.raises(StoreError, match="unknown filter field"):
        store.query_pairs({"colour": "red"})


def test_detail_has_snippet_code_and_repo(store, mixed):
    pair = store.get_pair(mixed["labelled"][1])
    assert pair["snippet_code"] == "func die():\n\tqueue_free()\n"
    assert pair["repo_name"] == "octo/game" and pair["engine_version"] == "4.x"
    with pytest.raises(NotFoundError):
        store.get_pair(99999)


def test_edit_records_history_and_diff(store, mixed):
    pid = mixed["labelled"][0]
    pair = store.get_pair(pid)
    after = store.edit_pair(pid, {"instruction": "Make the player jump up"}, seen=seen_of(pair))
    store.edit_pair(pid, {"instruction": "Make the player jump upwards"}, seen=seen_of(after))
    history = store.pair_history(pid)
    assert [(e["field"], e["before"], e["after"]) for e in history] == [
        ("instruction", "Make the player jump", "Make the player jump up"),
        ("instruction", "Make the player jump up", "Make the player jump upwards")]
    diff = store.label_diff(pid)["instruction"]
    assert "-Make the player jump\n+Make the player jump upwards" in diff
    assert store.get_pair(pid)["edited_fields"] == ["instruction"]


def test_stale_edit_of_a_changed_field_conflicts_and_writes_nothing(store, mixed):
    pid = mixed["imported"][0]
    opened = store.get_pair(pid)
    store.fill_label(pid, {"output": "def rev(s):\n    return ''.join(reversed(s))\n"})
    with pytest.raises(ConflictError, match="output changed since you opened it"):
        store.edit_pair(pid, {"output": "mine"}, seen=seen_of(opened))
    assert "reversed" in store.get_pair(pid)["output"]
    assert store.pair_history(pid) == []


def test_stale_edit_of_an_untouched_field_goes_through(store, mixed):
    pid = mixed["imported"][0]
    opened = store.get_pair(pid)
    store.fill_label(pid, {"output": "def rev(s):\n    return s[::-1]  # labelled\n"})
    store.edit_pair(pid, {"instruction": "Reverse the characters of a string"}, seen=seen_of(opened))
    now = store.get_pair(pid)
    assert now["instruction"] == "Reverse the characters of a string" and "labelled" in now["output"]


def test_edit_by_stale_revision_conflicts(store, mixed):
    pid = mixed["imported"][0]
    revision = store.get_pair(pid)["revision"]
    store.edit_pair(pid, {"input": "'abc'"}, revision=revision)
    with pytest.raises(ConflictError, match=f"changed since revision {revision}"):
        store.edit_pair(pid, {"input": "'xyz'"}, revision=revision)


def test_approving_text_that_changed_unseen_conflicts(store, mixed):
    pid = mixed["imported"][0]
    opened = store.get_pair(pid)
    store.fill_label(pid, {"instruction": "Something else entirely"})
    with pytest.raises(ConflictError, match="instruction"):
        store.set_pair_status(pid, "approved", seen=seen_of(opened))
    assert store.get_pair(pid)["status"] == "draft"


def test_status_changes_are_history_and_approval_needs_text(store, mixed):
    pid = mixed["imported"][0]
    store.set_pair_status(pid, "approved")
    assert store.pair_history(pid)[-1] | {"at": None, "id": None} == {
        "id": None, "field": "status", "before": "draft", "after": "approved", "at": None}
    [empty] = add_pairs(store, [{"instruction": "Describe it", "output": ""}], prefix="e")
    with pytest.raises(StoreError, match="needs an instruction and an output"):
        store.set_pair_status(empty, "approved")


def test_fill_label_keeps_human_edits_and_decisions(store, mixed):
    edited, decided = mixed["imported"][0], mixed["imported"][1]
    store.edit_pair(edited, {"instruction": "Human words"}, seen=seen_of(store.get_pair(edited)))
    kept = store.fill_label(edited, {"instruction": "Machine words", "output": "machine code", "tokens_in": 7})
    pair = store.get_pair(edited)
    assert kept == ["instruction"]
    assert (pair["instruction"], pair["output"], pair["tokens_in"]) == ("Human words", "machine code", 7)
    assert store.fill_label(decided, {"output": "other", "status": "draft"}) == ["output", "status"]
    assert store.get_pair(decided)["status"] == "approved"


def test_a_raw_machine_write_over_a_human_edit_is_refused(store, mixed):
    pid = mixed["imported"][0]
    store.edit_pair(pid, {"output": "human code"}, seen=seen_of(store.get_pair(pid)))
    with pytest.raises(sqlite3.IntegrityError, match="a person edited this pair"):
        with store.tx() as db:
            db.execute("UPDATE pairs SET output = 'machine code' WHERE id = ?", [pid])
    assert store.get_pair(pid)["output"] == "human code"


def test_editing_a_failed_pair_makes_it_a_draft_so_retries_leave_it(store, mixed):
    _, snippets = add_repo_with_snippets(store, "octo/other", ["func f():\n\tpass\n"])
    pid = store.record_label({"instruction": "", "output": "", "origin": "label", "snippet_id": snippets[0],
                              "status": "failed", "labeller": "test-model", "prompt_version": "describe@1",
                              "error": "HTTP 500"})
    store.edit_pair(pid, {"instruction": "Do nothing", "output": "func f():\n\tpass\n"},
                    seen=seen_of(store.get_pair(pid)))
    again = label(store, snippets[0], "Machine retry", "func f():\n\tpass\n")
    pair = store.get_pair(pid)
    assert again == pid and pair["status"] == "draft" and pair["instruction"] == "Do nothing"


def test_bulk_status_on_a_filter(store, mixed):
    add_pairs(store, [{"instruction": "Empty one", "output": " ", "language": "python"}], prefix="b")
    result = store.bulk_set_status({"language": "python", "status": "draft"}, "approved")
    assert result == {"changed": 1, "skipped_empty": 1}
    assert store.count_pairs({"language": "python", "status": "approved"}) == 2
    assert store.bulk_set_status({"origin": "label"}, "rejected")["changed"] == 2
    assert store.pair_history(mixed["labelled"][0])[-1]["after"] == "rejected"


def test_neighbour_walks_the_filter(store, mixed):
    flt = {"language": "python"}
    ids = store.pair_ids(flt)
    assert store.neighbour_pair_id(flt, ids[0]) == ids[1]
    assert store.neighbour_pair_id(flt, ids[1], forward=False) == ids[0]
    assert store.neighbour_pair_id(flt, ids[-1]) is None


def test_stats_counts_and_lengths(store, mixed):
    stats = store.pair_stats()
    assert stats["total"] == 5
    assert stats["by_status"] == {"draft": 3, "approved": 1, "rejected": 1}
    assert stats["by_language"]["python"] == 3 and stats["by_origin"] == {"import": 3, "label": 2}
    assert sorted(stats["instruction_lengths"])[0] == len("Reverse a string")
    assert stats["flags"]["clean"] == 5
