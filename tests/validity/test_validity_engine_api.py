"""Engine-API rules (generated tables + light type inference), one family at a time, each with an
answer that is valid and one that is invalid for each engine version it applies to."""
import json

import pytest

from evals.validity import check
from evals.validity.engine_api import API_DIR, engine_api


def _rules(code, target, **kw):
    return {f.rule_id for f in check(code, "gdscript", target, **kw).errors}


def _valid(code, target, **kw):
    return check(code, "gdscript", target, **kw).valid


# -- the tables --------------------------------------------------------------------------------
@pytest.mark.parametrize("version,minimum,source", [("3", 600, "godot3-server 3.2.3"),
                                                    ("4", 1000, "godot-rag 4.7.0.post13")])
def test_generated_table_names_its_source_and_covers_the_engine(version, minimum, source):
    table = json.loads((API_DIR / f"godot{version}.json").read_text())
    assert source in table["source"] and "MIT" in table["license"]
    assert len(table["classes"]) >= minimum


def test_tables_know_base_chains_virtuals_and_argument_counts():
    api = engine_api("4")
    assert api.inherits("CharacterBody2D", "Node2D")
    assert "v" in api.method("CharacterBody2D", "_physics_process")[3]
    assert api.method("Node", "add_child")[1:3] == [1, 3]
    assert engine_api("3").method("KinematicBody2D", "move_and_slide")[1] == 1


# -- member access on typed values ----------------------------------------------------------------
@pytest.mark.parametrize("target", ["3", "4"])
def test_builtin_value_member_that_does_not_exist_is_an_error(target):
    code = "extends Node2D\n\nfunc f(v: Vector2):\n\tvar n = v.normalize()\n"
    assert "gd-no-member" in _rules(code, target)


@pytest.mark.parametrize("target", ["3", "4"])
def test_builtin_value_member_that_exists_is_valid(target):
    assert _valid("extends Node2D\n\nfunc f(v: Vector2):\n\tvar n = v.normalized()\n", target)


def test_typo_on_a_singleton_is_an_error_in_godot4():
    assert "gd-no-member" in _rules("func f():\n\tif Input.is_action_presed(\"jump\"):\n\t\tpass\n", "4")


def test_method_on_an_open_engine_type_is_left_to_the_user_script():
    code = "extends Area2D\n\nfunc _on_body_entered(body: Node2D) -> void:\n\tbody.take_damage(1)\n"
    assert _valid(code, "4")


def test_dictionary_keys_read_with_a_dot_are_valid():
    assert _valid("func f(d: Dictionary):\n\tprint(d.collider)\n", "4")


def test_lowercase_engine_constant_suggests_the_upper_case_one():
    finding = check("func f():\n\tvar v = Vector2.zero\n", "gdscript", "4").errors[0]
    assert finding.fix == "Vector2.ZERO"


# -- the other major version's API -------------------------------------------------------------
def test_godot3_method_on_an_exact_godot4_object_is_other_version_api():
    code = "func f():\n\tvar img := Image.new()\n\timg.lock()\n"
    assert "gd-api-other-version" in _rules(code, "4")
    assert _valid(code, "3")


def test_godot4_base_method_called_in_godot3_is_other_version_api():
    code = "extends Node2D\n\nfunc f():\n\tvar t = create_tween()\n"
    assert "gd-api-other-version" in _rules(code, "3")
    assert _valid(code, "4")


def test_godot3_base_method_under_godot4_is_not_amended_as_user_made():
    code = "extends Node2D\n\nfunc f():\n\tvar p = find_node(\"Player\")\n"
    assert "gd-api-other-version" in _rules(code, "4")
    assert _valid(code, "3")


# -- argument counts ----------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["3", "4"])
def test_engine_method_with_too_few_arguments_is_an_error(target):
    assert "gd-engine-argument-count" in _rules("extends Node\n\nfunc f():\n\tadd_child()\n", target)


@pytest.mark.parametrize("target", ["3", "4"])
def test_engine_method_with_optional_arguments_omitted_is_valid(target):
    assert _valid("extends Node\n\nfunc f(n: Node):\n\tadd_child(n)\n", target)


def test_global_function_argument_count_is_checked():
    assert "gd-engine-argument-count" in _rules("func f():\n\tvar x = clamp(1, 2)\n", "4")
    assert _valid("func f():\n\tvar x = clamp(1, 2, 3)\n", "4")


# -- static calls, signals, operators ----------------------------------------------------------------
def test_instance_method_called_on_the_class_is_an_error_in_godot4_only():
    code = "func f(text: String):\n\tvar r = JSON.parse(text)\n"
    assert "gd-non-static-call" in _rules(code, "4")
    assert _valid(code, "3")  # Godot 3's JSON is a singleton
    assert _valid("func f(text: String):\n\tvar r = JSON.parse_string(text)\n", "4")


def test_calling_a_signal_like_a_method_is_an_error_in_godot4():
    code = "extends Node\n\nfunc f():\n\tvar t := Timer.new()\n\tawait t.timeout()\n"
    assert "gd-signal-call" in _rules(code, "4")
    assert _valid("extends Node\n\nfunc f():\n\tvar t := Timer.new()\n\tawait t.timeout\n", "4")


@pytest.mark.parametrize("target", ["3", "4"])
def test_string_plus_int_is_an_invalid_operator(target):
    code = "func f():\n\tvar s = \"Score: \" + 5\n"
    assert "gd-invalid-operator" in _rules(code, target)
    assert _valid("func f():\n\tvar s = \"Score: \" + str(5)\n", target)


def test_vector_times_number_is_a_valid_operator():
    assert _valid("func f(v: Vector2):\n\tvar w = v * 2.0 + Vector2.ONE\n", "4")
    assert "gd-invalid-operator" in _rules("func f(v: Vector2):\n\tvar w = v * Vector3.ONE\n", "4")


# -- overriding engine methods ---------------------------------------------------------------------
def test_overriding_a_non_virtual_engine_method_is_an_error_in_godot4_only():
    code = "extends Node\n\nfunc get_name():\n\treturn \"x\"\n"
    assert "gd-native-override" in _rules(code, "4")
    assert _valid(code, "3")


def test_virtual_override_with_the_wrong_parameter_count_is_an_error_in_godot4():
    assert "gd-native-override" in _rules("extends Node\n\nfunc _process():\n\tpass\n", "4")
    assert _valid("extends Node\n\nfunc _process(delta):\n\tpass\n", "4")
    assert _valid("extends Node\n\nfunc _init(a, b):\n\tpass\n", "4")


# -- classes ------------------------------------------------------------------------------------------
def test_engine_class_name_with_a_suffix_is_not_an_engine_class():
    assert "gd-unknown-engine-class" in _rules("var body: Sprite2DNode\n", "4")
    assert "gd-unknown-engine-class" in _rules("var body: SpriteNode\n", "3")
    assert _valid("var body: Sprite2D\n", "4") and _valid("var body: Sprite\n", "3")


def test_project_class_name_is_amended_not_an_error():
    assert _valid("var inventory: InventoryData\n", "4")


# -- the reviewer's protocol ----------------------------------------------------------------------------
def test_user_made_call_is_amended_by_default_and_an_error_in_strict_mode():
    code = "extends CharacterBody2D\n\nfunc _physics_process(delta):\n\tapply_gravity(delta)\n"
    result = check(code, "gdscript", "4")
    assert result.valid and "gd-user-ref" in {f.rule_id for f in result.findings}
    assert "gd-undefined-function" in _rules(code, "4", user_refs="strict")


def test_unknown_user_refs_mode_is_refused():
    with pytest.raises(ValueError, match="user_refs"):
        check("var x = 1\n", "gdscript", "4", user_refs="lenient")


# -- type inference ----------------------------------------------------------------------------------
def test_type_flows_through_inferred_locals_and_engine_return_types():
    code = "extends Node\n\nfunc f():\n\tvar tween := create_tween()\n\ttween.tween_callback(self, \"hide\")\n"
    assert "gd-engine-argument-count" in _rules(code, "4")


def test_node_paths_are_open_nodes():
    assert _valid("extends Node\n\nfunc f():\n\t$Sprite2D.play(\"run\")\n\t$Enemy.hit(3)\n", "4")


def test_member_declared_with_an_engine_constructor_is_exact():
    code = "extends Node\n\nvar timer = Timer.new()\n\nfunc f():\n\ttimer.set_timeout(2)\n"
    assert "gd-no-member" in _rules(code, "4")


# -- Godot 4 values that Godot 3 does not have ----------------------------------------------------
def test_signal_used_as_an_object_is_an_error_in_godot3_only():
    code = "extends Node\n\nsignal died\n\nfunc f():\n\tdied.connect(queue_free)\n"
    assert "gd-godot4-value-in-godot3" in _rules(code, "3")
    assert _valid(code, "4")


def test_function_passed_as_a_value_is_an_error_in_godot3_only():
    code = "extends Node\n\nfunc _ready():\n\t$Timer.timeout.connect(_on_timeout)\n\nfunc _on_timeout():\n\tpass\n"
    assert _valid(code, "4")
    code3 = "extends Node\n\nfunc _ready():\n\tcall_deferred(\"x\", _on_timeout)\n\nfunc _on_timeout():\n\tpass\n"
    assert "gd-godot4-value-in-godot3" in _rules(code3, "3")
    assert _valid("extends Node\n\nfunc _ready():\n\t$Timer.connect(\"timeout\", self, \"_on_timeout\")\n"
                  "\nfunc _on_timeout():\n\tpass\n", "3")


# -- the frozen blind set -----------------------------------------------------------------------------
def test_blind_set_2_is_frozen_unlabelled_and_large_enough():
    path = API_DIR.parents[2] / "tests" / "data" / "gdscript_validity_blind2_answers.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(rows) >= 150 and len({r["id"] for r in rows}) == len(rows)
    assert all({"id", "target", "instruction", "answer"} <= set(r) and "valid" not in r for r in rows)
    assert {r["target"] for r in rows} == {"3", "4"}


def test_blind_set_2_labels_cover_every_answer_once():
    """The independent reviewers' labels live apart from the answers: one per answer, nothing else."""
    data = API_DIR.parents[2] / "tests" / "data"
    answers = [json.loads(line)["id"] for line in (data / "gdscript_validity_blind2_answers.jsonl").read_text().splitlines()
               if line.strip()]
    labels = [json.loads(line) for line in (data / "gdscript_validity_blind2_labels.jsonl").read_text().splitlines()
              if line.strip()]
    assert [r["id"] for r in labels] == answers
    assert all(isinstance(r["valid"], bool) for r in labels)
