"""Issue 24, item 1: freezing carves a held-out test split that cannot leak — grouped by repo or
file, near-duplicates of test items dropped from train, decontaminated as train is, read by
nothing that trains. Real git repos made by the test, curated and labelled by the studio's code."""
from __future__ import annotations

import json

import pytest

from pipeline.clean.dedup import NearDuplicateFinder, exact_key
from pipeline.pairs.export import ExportError, freeze_dataset
from tests.owncode_helpers import curate_and_label, make_code_repos


@pytest.fixture
def code_store(store, tmp_path):
    curate_and_label(store, make_code_repos(tmp_path / "repos"))
    return store


def _sources(store, rows):
    return {p["id"]: p for p in store.pairs_by_ids([r["pair_id"] for r in rows], columns="id, repo_id, path")}


def test_split_takes_whole_repos_and_train_has_no_near_duplicate_of_a_test_item(code_store):
    ds = freeze_dataset(code_store, "mine", {"status": ["approved"]}, split={"test_fraction": 0.3})
    test = code_store.dataset_examples(ds["id"], split="test")
    train = code_store.dataset_examples(ds["id"], split="train")
    info = ds["split_info"]
    assert info["grouping"] == "repo" and info["test"] == len(test) >= 10 and info["train"] == len(train)
    src = _sources(code_store, test + train)
    test_repos = {src[r["pair_id"]]["repo_id"] for r in test}
    assert test_repos and not test_repos & {src[r["pair_id"]]["repo_id"] for r in train}
    # every test repo's copy of the shared helper took its copies in train repos out of train
    assert info["dropped_near_duplicates"] >= 1
    assert not [r for r in train if "clamp_value" in r["output"]]
    finder = NearDuplicateFinder(0.85)
    for i, r in enumerate(test):
        finder.add(("test", i), r["output"])
    for i, r in enumerate(train):
        finder.add(("train", i), r["output"])
    assert not [e for e in finder.edges() if {e[0][0], e[1][0]} == {"test", "train"}]
    assert not {exact_key(r["output"]) for r in test} & {exact_key(r["output"]) for r in train}
    # stored with the version: the dropped pairs are named, and the sizes add up
    assert ds["size"] == len(test) + len(train) and len(info["dropped_pair_ids"]) == info["dropped_near_duplicates"]


def test_split_by_file_keeps_each_file_on_one_side(code_store):
    ds = freeze_dataset(code_store, "byfile", {"status": ["approved"]}, split={"group_by": "file"})
    rows = code_store.dataset_examples(ds["id"], split="test"), code_store.dataset_examples(ds["id"], split="train")
    src = _sources(code_store, rows[0] + rows[1])
    files = [{(src[r["pair_id"]]["repo_id"], src[r["pair_id"]]["path"]) for r in side} for side in rows]
    assert ds["split_info"]["grouping"] == "file" and files[0] and not files[0] & files[1]


def test_same_seed_same_split_and_other_seeds_others(code_store):
    def test_ids(seed):
        ds = freeze_dataset(code_store, "s", {"status": ["approved"]}, split={"split_seed": seed})
        return tuple(r["pair_id"] for r in code_store.dataset_examples(ds["id"], split="test"))

    assert test_ids(1) == test_ids(1)
    assert len({test_ids(seed) for seed in range(2, 7)}) > 1


def test_training_reads_train_only(code_store):
    from pipeline.train import data as train_data

    ds = freeze_dataset(code_store, "t", {"status": ["approved"]})
    test_ids = {r["pair_id"] for r in code_store.dataset_examples(ds["id"], split="test")}
    trained = {r["pair_id"] for r in train_data.dataset_examples(code_store, ds["id"])}
    assert test_ids and trained and not test_ids & trained


def test_contaminated_pairs_are_in_neither_split(code_store, tmp_path):
    from pipeline.clean.job import CleanConfig, run_clean

    victim = code_store.pairs_by_ids(code_store.pair_ids(), columns="id, output")
    victim = next(p for p in victim if "clamp_value" not in p["output"])
    suite = tmp_path / "leaked.jsonl"
    suite.write_text(json.dumps({"task_id": "leak/0", "prompt": victim["output"]}) + "\n")
    run_clean(code_store, CleanConfig(suites=[str(suite)], near_dedup=False, exact_dedup=False, filters=False),
              log=lambda m: None)
    ds = freeze_dataset(code_store, "c", {"status": ["approved"]}, split={"test_fraction": 0.5})
    frozen = {r["pair_id"] for r in code_store.dataset_examples(ds["id"])}
    assert victim["id"] not in frozen and ds["split_info"]["test"] > 0


def test_small_or_zero_fraction_datasets_freeze_without_a_test_split(store):
    from tests.pairs_helpers import add_pairs

    ids = add_pairs(store, [{"instruction": f"f{i}", "output": f"def f{i}(): return {i}", "status": "approved"}
                            for i in range(5)])
    ds = freeze_dataset(store, "tiny", {"status": ["approved"]})
    assert ds["size"] == 5 and store.dataset_split_counts(ds["id"]) == {"train": 5, "test": 0}
    assert "fewer than 20" in ds["split_info"]["note"]
    with pytest.raises(ExportError, match="test_fraction"):
        freeze_dataset(store, "bad", {"status": ["approved"]}, split={"test_fraction": 0.9})
    assert ids


def test_cli_freeze_prints_the_split_and_datasets_lists_it(code_store, capsys):
    from pipeline.__main__ import main

    assert main(["pairs", "freeze", "cli", "--status", "approved", "--test-fraction", "0.3",
                 "--group-by", "file"]) == 0
    out = capsys.readouterr().out
    assert "test split:" in out and "file groups held out" in out
    assert main(["pairs", "datasets"]) == 0
    assert " test  " in capsys.readouterr().out


def test_exports_say_which_records_are_held_out(code_store, tmp_path):
    from pipeline.pairs.export import export_jsonl

    ds = freeze_dataset(code_store, "exp", {"status": ["approved"]}, split={"test_fraction": 0.3})
    out = export_jsonl(code_store, "exp", tmp_path / "exp.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "exp.jsonl").read_text().splitlines()]
    assert out["rows"] == ds["size"] and sum(r["split"] == "test" for r in rows) == ds["split_info"]["test"]
    assert {r["split"] for r in rows} == {"train", "test"}
