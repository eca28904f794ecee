"""Frozen means frozen (issue 10, failures 7 and 8): a dataset version keeps the text it was
frozen with, id-only freezes from before snapshots are verified against their hash, and a
dataset name cannot steer a path out of the data folder."""
from __future__ import annotations

import json
import sqlite3

import pytest

from pipeline.pairs.export import export_jsonl, freeze_dataset
from pipeline.paths import UnsafeNameError, named_path
from pipeline.store import Store
from pipeline.store.pairs_datasets import DatasetDriftError
from tests.pairs_helpers import add_pairs


@pytest.fixture
def frozen(store):
    ids = add_pairs(store, [
        {"instruction": "Reverse a list", "output": "xs[::-1]", "status": "approved", "language": "python"},
        {"instruction": "Add two numbers", "input": "a=1, b=2", "output": "a + b", "status": "approved"},
    ])
    return ids, freeze_dataset(store, "sft", {"status": "approved"})


def _edit(store, pair_id, **changes):
    pair = store.get_pair(pair_id)
    store.edit_pair(pair_id, changes, revision=pair["revision"])


def test_export_after_an_edit_is_byte_identical_to_the_export_before(store, frozen, tmp_path):
    """Failure 8: editing a pair after freezing changed the 'frozen' export."""
    ids, _ds = frozen
    export_jsonl(store, "sft", tmp_path / "before.jsonl")
    _edit(store, ids[0], output="list(reversed(xs))", instruction="Reverse it")
    after = export_jsonl(store, "sft", tmp_path / "after.jsonl")
    assert (tmp_path / "before.jsonl").read_bytes() == (tmp_path / "after.jsonl").read_bytes()
    assert after["changed_since_freeze"] and after["rows"] == 2  # a hint, the data itself did not move


def test_dataset_examples_reads_the_snapshot_in_frozen_order(store, frozen):
    ids, ds = frozen
    _edit(store, ids[1], input="a=3, b=4")
    assert store.dataset_examples(ds["id"]) == [
        {"pair_id": ids[0], "instruction": "Reverse a list", "input": "", "output": "xs[::-1]"},
        {"pair_id": ids[1], "instruction": "Add two numbers", "input": "a=1, b=2", "output": "a + b"}]
    assert store.dataset_examples(ds["id"], with_language=True)[0]["language"] == "python"


def _make_legacy(store, dataset_id):
    """What a database frozen before snapshots holds: the ids and hash, no copied text."""
    conn = sqlite3.connect(store.path)
    conn.execute("DELETE FROM dataset_examples WHERE dataset_id = ?", [dataset_id])
    conn.commit()
    conn.close()


def test_an_id_only_dataset_whose_pairs_are_unchanged_is_snapshotted_on_first_read(store, frozen, tmp_path):
    ids, ds = frozen
    _make_legacy(store, ds["id"])
    assert [e["output"] for e in store.dataset_examples(ds["id"])] == ["xs[::-1]", "a + b"]
    _edit(store, ids[0], output="changed later")  # now snapshotted: later edits do not matter
    assert store.dataset_examples(ds["id"])[0]["output"] == "xs[::-1]"


def test_an_id_only_dataset_whose_pairs_drifted_is_refused_with_what_to_do(store, frozen, tmp_path):
    ids, ds = frozen
    _make_legacy(store, ds["id"])
    _edit(store, ids[1], output="a - b")
    with pytest.raises(DatasetDriftError, match=r"sft@1 was frozen as pair ids only .* freeze it again"):
        store.dataset_examples(ds["id"])
    with pytest.raises(DatasetDriftError):
        export_jsonl(store, "sft", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_the_migration_backfills_id_only_datasets_that_still_match(studio_home):
    path = studio_home / "old.db"
    store = Store(path)
    ids = add_pairs(store, [{"instruction": "Keep", "output": "1", "status": "approved"},
                            {"instruction": "Drift", "output": "2", "status": "approved"}])
    keep = store.create_dataset("keep", ids[:1], {}, "alpaca")
    drift = store.create_dataset("drift", ids[1:], {}, "alpaca")
    store.close()
    conn = sqlite3.connect(path)  # roll the file back to before the snapshot migration
    conn.executescript("DROP TABLE dataset_examples; DELETE FROM _migrations WHERE name = '0403_dataset_snapshots';"
                       f"UPDATE pairs SET output = 'moved' WHERE id = {ids[1]};")
    conn.close()
    reopened = Store(path)
    assert reopened.dataset_examples(keep["id"])[0]["output"] == "1"
    with pytest.raises(DatasetDriftError):
        reopened.dataset_examples(drift["id"])
    reopened.close()


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "", "x" * 101, "with space", "nul\x00"])
def test_a_dataset_name_that_could_leave_the_data_folder_is_refused(store, frozen, name):
    """Failure 7: a dataset named ../../x was frozen and exported outside the data dir."""
    with pytest.raises(UnsafeNameError, match="is not allowed"):
        freeze_dataset(store, name, {"status": "approved"})
    assert [d["name"] for d in store.list_datasets()] == ["sft"]


def test_default_export_paths_stay_in_the_datasets_folder(store, frozen, studio_home):
    result = export_jsonl(store, "sft")
    assert result["path"] == str((studio_home / "datasets" / "sft-v1-alpaca.jsonl").resolve())
    with pytest.raises(UnsafeNameError):
        named_path("runs", "../escape")
    assert json.loads((studio_home / "datasets" / "sft-v1-alpaca.jsonl").read_text().splitlines()[0])["output"] == "xs[::-1]"
