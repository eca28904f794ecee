"""Public API of evals.validity: target detection, aggregation, rubric, cache, errors."""
import json

import pytest

from evals.validity import (
    UnknownLanguageError,
    check,
    check_many,
    detect_godot_version,
    finding_counts,
    resolve_target,
    syntax_rubric_score,
    validity_rate,
)

GODOT3_SNIPPET = "extends Node\nonready var l = $Label\n"


def test_project_godot_config_version_5_is_godot4():
    assert detect_godot_version("; Engine configuration file.\nconfig_version=5\n") == "4"


def test_project_godot_config_version_4_is_godot3():
    assert detect_godot_version("config_version=4\n\n[application]\n") == "3"


def test_project_godot_folder_path_is_read(tmp_path):
    (tmp_path / "project.godot").write_text("config_version=4\n")
    assert detect_godot_version(tmp_path) == "3"


def test_prompt_mentioning_godot_3_5_is_godot3():
    assert detect_godot_version("Write a Godot 3.5 script that moves a sprite") == "3"


def test_porting_prompt_targets_the_destination_version():
    assert detect_godot_version("Port this Godot 3 code to Godot 4") == "4"


def test_prompt_without_a_version_gives_none():
    assert detect_godot_version("Write a GDScript function that adds two numbers") is None


def test_target_defaults_to_godot4():
    assert resolve_target(None, "no version here", None) == "4"


def test_check_takes_the_target_from_the_prompt():
    assert check(GODOT3_SNIPPET, "gdscript", prompt="For Godot 3.5: show a label").valid


def test_explicit_target_wins_over_the_prompt():
    assert not check(GODOT3_SNIPPET, "gdscript", "4", prompt="For Godot 3.5").valid


def test_validity_rate_is_the_fraction_valid():
    results = [check("var a = 1\n", "gdscript", "4"), check("var = \n", "gdscript", "4")]
    assert validity_rate(results) == 0.5


def test_validity_rate_of_nothing_is_zero():
    assert validity_rate([]) == 0.0


def test_rubric_score_is_binary_and_scalable():
    good, bad = check("var a = 1\n", "gdscript", "4"), check("var = \n", "gdscript", "4")
    assert (syntax_rubric_score(good), syntax_rubric_score(bad), syntax_rubric_score(good, 10)) == (1, 0, 10)


def test_same_input_is_served_from_the_cache():
    assert check("var cached = 1\n", "gdscript", "4") is check("var cached = 1\n", "gdscript", "4")


def test_check_many_matches_check():
    codes = ["var a = 1\n", GODOT3_SNIPPET, "func f(:\n"]
    assert [r.valid for r in check_many(codes, "gdscript", "4")] == [check(c, "gdscript", "4").valid for c in codes]


def test_finding_counts_counts_answers_per_rule():
    results = check_many([GODOT3_SNIPPET, GODOT3_SNIPPET + "\n", "var a = 1\n"], "gdscript", "4")
    assert finding_counts(results)["gd4-onready"] == 2


def test_unknown_language_raises():
    with pytest.raises(UnknownLanguageError):
        check("x", "cobol")


def test_unknown_level_raises():
    with pytest.raises(ValueError):
        check("var a = 1\n", "gdscript", levels=("parse", "vibes"))


def test_levels_can_be_a_comma_string():
    assert check("var a = 1\n", "gdscript", "4", levels="parse,refs").levels == ("parse", "refs")


def test_result_serializes_to_json():
    data = json.loads(json.dumps(check(GODOT3_SNIPPET, "gdscript", "4").to_dict()))
    assert data["valid"] is False and data["findings"][0]["rule_id"] == "gd4-onready"


def test_empty_answer_is_a_warning_not_an_error():
    result = check("  \n", "gdscript", "4")
    assert result.valid and [f.rule_id for f in result.findings] == ["empty-answer"]
