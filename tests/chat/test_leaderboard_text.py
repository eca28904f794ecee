"""Arena ratings come with their battle counts; below the stated number they say "too few votes"."""
from __future__ import annotations

from pipeline.chat.leaderboard import MIN_BATTLES, leaderboard, rating_text


def test_a_rating_on_one_or_two_battles_says_too_few_votes_not_a_precise_interval():
    rows = leaderboard([("x", "y", "a"), ("x", "y", "a")])
    x = next(r for r in rows if r["model"] == "x")
    text = rating_text(x["elo"], x["elo_low"], x["elo_high"], x["battles"])
    assert "too few votes (2 of 10 battles)" in text and "[" not in text
    assert MIN_BATTLES == 10


def test_enough_battles_show_the_interval_and_the_count():
    text = rating_text(1042.4, 1003.2, 1080.9, 35)
    assert text == "1042 [1003, 1081] · 35 battles"


def test_the_chat_tab_and_compare_use_the_same_text():
    from evals.compare import _cell
    from studio.chat_tab import leaderboard_rows

    row = {"model": "x", "bt": 1010.0, "bt_low": 990.0, "bt_high": 1030.0, "elo": 1016.0, "elo_low": 1015.6,
           "elo_high": 1015.8, "battles": 1, "wins": 1, "losses": 0, "ties": 0, "both_bad": 0}
    assert "too few votes" in leaderboard_rows([row])[0][1]
    assert "too few votes" in _cell({"value": 1016.0, "low": 1015.6, "high": 1015.8, "battles": 1}, "arena Elo")[0]


def test_an_answer_with_code_but_no_fence_keeps_its_indentation():
    from studio.chat_tab import fence_unfenced_code

    answer = ("Here is the function:\n\ndef add(a, b):\n    total = a + b\n\n    return total\n\n"
              "It adds two numbers.")
    shown = fence_unfenced_code(answer)
    assert shown == ("Here is the function:\n\n```\ndef add(a, b):\n    total = a + b\n\n    return total\n```"
                     "\n\nIt adds two numbers.")
    gd = "func _ready():\n\tprint('hi')"
    assert fence_unfenced_code(gd) == "```\nfunc _ready():\n\tprint('hi')\n```"
    fenced = "Use this:\n\n```python\ndef f():\n    pass\n```"
    assert fence_unfenced_code(fenced) == fenced                      # already fenced: untouched
    prose = "Sure. This adds two numbers.\nIt returns their sum."
    assert fence_unfenced_code(prose) == prose                         # prose stays prose
