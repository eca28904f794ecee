"""Exact and near-duplicate flagging: groups, the kept pair, thresholds, reversibility."""
from __future__ import annotations

import random

from pipeline.clean.dedup import NearDuplicateFinder, duplicate_groups, exact_duplicate_edges, shingles
from pipeline.clean.job import CleanConfig, run_clean, unflag
from tests.pairs_helpers import add_pairs, small_function

ONLY_DEDUP = dict(decontam=False, filters=False)


def quiet(_msg: str) -> None:
    pass


def test_exact_duplicates_ignore_whitespace():
    edges = exact_duplicate_edges([(1, "def f(x):\n    return x\n"), (2, "def f(x):\r\n\treturn x"),
                                   (3, "def f(y):\n    return y\n")])
    assert edges == [(1, 2)]


def test_shingles_are_five_token_windows():
    assert shingles("a = b + c", 5) == {"a = b + c"}
    assert shingles("x = f ( y )", 5) == {"x = f ( y", "= f ( y )"}


def test_near_duplicates_found_above_threshold_only():
    rng = random.Random(1)
    base = small_function(rng, "move_player")
    renamed = base.replace("return", "return  ").replace("move_player", "move_player2")
    unrelated = small_function(rng, "load_level")
    finder = NearDuplicateFinder(threshold=0.7).add_all([(1, base), (2, renamed), (3, unrelated)])
    assert finder.edges() == [(1, 2)]
    assert NearDuplicateFinder(threshold=1.0).add_all([(1, base), (2, renamed)]).edges() == []


def test_groups_keep_the_best_ranked_member():
    groups = duplicate_groups([(1, 2), (2, 3), (7, 8)], keep_rank=lambda k: (k != 3, k))
    assert groups == {1: 3, 2: 3, 3: 3, 7: 7, 8: 7}


def test_clean_flags_duplicates_and_keeps_the_approved_one(store):
    rng = random.Random(2)
    code = small_function(rng, "spawn_enemy")
    near = code.replace("spawn_enemy", "spawn_enemies")
    ids = add_pairs(store, [
        {"instruction": "Spawn an enemy", "output": code},
        {"instruction": "Create an enemy", "output": code.replace("    ", "\t"), "status": "approved"},
        {"instruction": "Spawn enemies", "output": near},
        {"instruction": "Load a level", "output": small_function(rng, "load_level")},
    ])
    summary = run_clean(store, CleanConfig(near_threshold=0.7, **ONLY_DEDUP), log=quiet)
    assert (summary["duplicate_groups"], summary["duplicates"]) == (1, 2)
    groups = {pid: store.get_pair(pid)["dup_group"] for pid in ids}
    assert groups == {ids[0]: ids[1], ids[1]: ids[1], ids[2]: ids[1], ids[3]: None}
    assert store.count_pairs({"flag": "duplicate"}) == 2
    assert store.count_pairs({"flag": "clean"}) == 2  # the kept one and the unrelated one


def test_dedup_on_pair_text_tells_different_instructions_apart(store):
    ids = add_pairs(store, [{"instruction": "Add two numbers together", "output": "def add(a, b):\n    return a + b\n"},
                            {"instruction": "Sum two values, returning the total", "output": "def add(a, b):\n    return a + b\n"}])
    run_clean(store, CleanConfig(dedup_on="pair", near_dedup=False, **ONLY_DEDUP), log=quiet)
    assert store.count_pairs({"flag": "duplicate"}) == 0
    run_clean(store, CleanConfig(dedup_on="output", near_dedup=False, **ONLY_DEDUP), log=quiet)
    assert store.get_pair(ids[1])["dup_group"] == ids[0]


def test_rerun_replaces_flags_and_unflag_restores(store):
    rng = random.Random(3)
    code = small_function(rng)
    ids = add_pairs(store, [{"instruction": "One", "output": code}, {"instruction": "Two", "output": code}])
    before = [store.get_pair(i) for i in ids]
    run_clean(store, CleanConfig(**ONLY_DEDUP), log=quiet)
    run_clean(store, CleanConfig(**ONLY_DEDUP), log=quiet)
    assert store.count_pairs({"flag": "duplicate"}) == 1
    assert unflag(store, "duplicate") == 2
    after = [store.get_pair(i) for i in ids]
    strip = lambda p: {k: v for k, v in p.items() if k not in ("revision", "updated_at")}
    assert [strip(p) for p in after] == [strip(p) for p in before]


def test_rejected_pairs_are_out_of_scope_by_default(store):
    code = "def f():\n    return 1\n"
    add_pairs(store, [{"instruction": "A", "output": code, "status": "rejected"}, {"instruction": "B", "output": code}])
    assert run_clean(store, CleanConfig(**ONLY_DEDUP), log=quiet)["duplicates"] == 0
