"""A judged eval whose own figures void it is shown as unreliable, never as a score."""
from __future__ import annotations

from evals.judge.reliability import assess, verdict_line


def metrics(ok=24, constrained=0, unparseable=0, first=None, flips=None, length=None, self_pref=None,
            mode="pairwise", positions=None) -> dict:
    bias = {}
    if first is not None:
        bias["first_position_win_rate"] = {"value": first, "n": ok}
    if flips is not None:
        bias["flip_rate"] = {"value": flips, "n": ok // 2}
    if length is not None:
        bias["length_correlation"] = {"value": length, "n": ok}
    if self_pref is not None:
        bias["self_preference"] = {"value": self_pref, "n": ok}
    if positions is not None:
        bias["position_means"] = {"value": positions, "n": ok}
    counts = {"ok": ok, "unparseable": unparseable, "failed": 0}
    if constrained:
        counts["ok (constrained verdict)"] = constrained
    return {"mode": mode, "counts": counts, "bias": bias}


def test_a_judge_that_always_picks_the_first_answer_is_unreliable():
    # the case: first-position win rate 1.000, flip rate 1.000, every verdict constrained
    a = assess(metrics(first=1.0, flips=1.0, constrained=24), "smol", ["smol", "tuned"])
    assert not a["reliable"]
    text = " ".join(a["reasons"])
    assert "position bias" in text and "100%" in text
    assert "changed winner" in text and "constrained decoding" in text
    assert a["flags"] == ["self-judging: the judge smol is also a contestant"]
    assert verdict_line(a).startswith("unreliable: ")


def test_a_consistent_judge_passes_and_self_judging_alone_is_only_flagged():
    ok = assess(metrics(first=0.55, flips=0.1), "gpt", ["a", "b"])
    assert ok == {"reliable": True, "reasons": [], "flags": []} and verdict_line(ok) == ""
    self_judged = assess(metrics(first=0.55, flips=0.1), "a", ["a", "b"])
    assert self_judged["reliable"] and verdict_line(self_judged).startswith("flagged: self-judging")


def test_each_threshold_needs_enough_cases_to_speak():
    # 3 decisive verdicts all first: too few to call it position bias, but too few items overall
    a = assess(metrics(ok=3, first=1.0), "j", ["a", "b"])
    assert [r.split(":")[0] for r in a["reasons"]] == ["too few items"]
    assert not assess(metrics(ok=40, unparseable=20), "j", ["a", "b"])["reliable"]     # a third unparsed
    assert assess(metrics(ok=40, unparseable=5), "j", ["a", "b"])["reliable"]
    multi = assess(metrics(mode="multi", positions={"1": 8.0, "2": 4.5}), "j", ["a", "b"])
    assert "shown position" in multi["reasons"][0]
    flagged = assess(metrics(mode="single", length=0.9, self_pref=2.0), "a", ["a", "b"])
    assert flagged["reliable"] and len(flagged["flags"]) == 3


def test_compare_shows_unreliable_instead_of_the_score(store):
    from evals.compare import leaderboard, table_rows, to_markdown
    from evals.judge.suites import ensure_builtin_suite

    suite = ensure_builtin_suite(store)
    run_id = store.create_judge_run(suite["name"], "pairwise", "smol", ["smol", "tuned"], {})
    store.update_judge_run(run_id, status="done", metrics={
        **metrics(first=1.0, flips=1.0, constrained=24),
        "models": {"smol": {"score": 5.0, "judged": 24}, "tuned": {"score": 5.0, "judged": 24}},
        "categories": {"code": {"smol": 5.0, "tuned": 5.0}}})
    board = leaderboard(store)
    rows = {r[0]: r for r in table_rows(board)}
    assert rows["smol"][3] == "unreliable" and rows["tuned"][3] == "unreliable"
    assert "position bias" in rows["smol"][-1]
    assert "**Unreliable**" in to_markdown(board)


def test_the_judge_panel_puts_the_warning_above_the_numbers():
    from studio.judge_panel import results_markdown

    run = {"id": 7, "mode": "pairwise", "judge": "smol", "contestants": ["smol", "tuned"], "suite": "s",
           "status": "done", "error": None,
           "metrics": {**metrics(first=1.0, flips=1.0, constrained=24),
                       "models": {"smol": {"score": 5.0, "judged": 24}, "tuned": {"score": 5.0, "judged": 24}}}}
    text = results_markdown(run)
    assert text.index("Unreliable") < text.index("| smol |")
    assert "position bias" in text and "self-judging" in text


def test_the_cli_says_unreliable_in_show_and_list(store, studio_home):
    import subprocess
    import sys

    from evals.judge.suites import ensure_builtin_suite

    suite = ensure_builtin_suite(store)
    run_id = store.create_judge_run(suite["name"], "pairwise", "smol", ["smol", "tuned"], {})
    store.update_judge_run(run_id, status="done", metrics={
        **metrics(first=1.0, flips=1.0, constrained=24),
        "models": {"smol": {"score": 5.0, "judged": 24}, "tuned": {"score": 5.0, "judged": 24}}, "categories": {}})
    env = {"STUDIO_HOME": str(studio_home), "PATH": "/usr/bin:/bin"}
    show = subprocess.run([sys.executable, "-m", "evals", "judge", "show", str(run_id)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "unreliable: position bias" in show.stdout, show.stderr
    listed = subprocess.run([sys.executable, "-m", "evals", "judge", "list"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert "UNRELIABLE" in listed.stdout
