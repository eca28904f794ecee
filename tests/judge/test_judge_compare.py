"""The leaderboard joins pass@k, validity, judge scores (and arena Elo when the chat stage has votes);
the CLI twin prints the same table and writes CSV and Markdown."""
from __future__ import annotations

import csv
import io

from evals.compare import leaderboard, to_csv, to_markdown
from tests.judge.board import seed


def test_leaderboard_joins_every_measure_with_its_source(store):
    eval_id, run_id = seed(store)
    board = leaderboard(store)
    assert [r["model"] for r in board["rows"]] == ["beta", "alpha"]          # by judge score
    alpha = board["rows"][1]
    assert alpha["pass@1"] == {"value": 0.25, "eval": eval_id, "suite": "mini"}
    assert alpha["validity"]["value"] == 0.9 and alpha["judge score"]["run"] == run_id
    assert board["categories"] == {"fix-bug": {"alpha": 6.5, "beta": 8.0}}
    rows = list(csv.reader(io.StringIO(to_csv(board))))
    assert rows[0] == ["model", "pass@1", "validity", "judge score", "arena Elo", "sources"]
    assert rows[2][:4] == ["alpha", "0.250", "0.900", "6.50"] and f"eval {eval_id} (mini)" in rows[2][5]
    md = to_markdown(board)
    assert "| alpha | 0.250 | 0.900 | 6.50 |" in md and f"judged eval {run_id}" in md
    assert "| fix-bug | 6.5 | 8.0 |" in md


def test_cli_compare_prints_the_same_table_and_writes_exports(store, tmp_path, capsys):
    from evals.__main__ import main

    seed(store)
    out_csv, out_md = tmp_path / "b.csv", tmp_path / "b.md"
    assert main(["compare", "--csv", str(out_csv), "--markdown", str(out_md)]) == 0
    printed = capsys.readouterr().out
    assert to_markdown(leaderboard(store)) in printed
    assert out_md.read_text().strip() == to_markdown(leaderboard(store)).strip()
    assert out_csv.read_text() == to_csv(leaderboard(store))


def test_unknown_judged_eval_is_a_clear_error(store, capsys):
    from evals.__main__ import main

    assert main(["compare", "--judge-run", "99"]) == 2
    assert "judged eval 99 has no results yet" in capsys.readouterr().err


def test_arena_elo_from_the_chat_stage_joins_the_board_and_votes_feed_arena_agreement(store):
    seed(store)
    for winner in ("b", "b", "b", "a"):
        store.record_vote(None, None, "alpha", "beta", winner)
    board = leaderboard(store)
    elo = {r["model"]: r.get("arena Elo") for r in board["rows"]}
    assert elo["beta"]["value"] > elo["alpha"]["value"] and elo["beta"]["battles"] == 4
    assert store.vote_tallies() == {("alpha", "beta"): {"a": 1, "b": 3, "tie": 0, "both_bad": 0}}
    assert "4 battles" in to_csv(board)
