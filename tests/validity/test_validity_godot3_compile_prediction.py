"""Godot 3: the static levels predict godot3-server --check-only (issue 14). Each rule has an
answer the Godot 3.2.3 analyzer accepts and one it rejects (checked with godot3-server, see
benchmarks/validity_godot3_dev.py); ``compiles`` is the prediction, ``valid`` the reviewer's
verdict (a "run" finding — a member of an untyped value — is invalid but compiles)."""
import pytest

from evals.validity import check


def _g3(code):
    return check(code, "gdscript", "3")


# -- what Godot 3's analyzer does not check: "run" findings ----------------------------------------
def test_member_of_an_untyped_variable_compiles_but_is_invalid():
    result = _g3("func f():\n\tvar v = Vector2()\n\tv.normalize()\n")
    assert result.compiles and not result.valid
    assert {f.when for f in result.errors} == {"run"}


def test_member_of_a_typed_builtin_value_does_not_compile():
    for code in ("func f():\n\tvar v := Vector2()\n\tv.normalize()\n",
                 "func f(v: Vector2):\n\tv.normalize()\n", "func f():\n\t\"abc\".size()\n"):
        assert not _g3(code).compiles


def test_unknown_member_of_an_engine_object_compiles_but_is_invalid():
    for code in ("func f():\n\tvar t := Timer.new()\n\tt.begin()\n",
                 "func f():\n\tif Input.is_action_presed(\"jump\"):\n\t\tpass\n",
                 "extends Node\nfunc f():\n\tget_tree().change_scene_to_file(\"a\")\n"):
        result = _g3(code)
        assert result.compiles and not result.valid, code


def test_argument_count_of_a_typed_engine_method_does_not_compile_untyped_does():
    assert not _g3("func f():\n\tvar t := Timer.new()\n\tt.start(1, 2, 3)\n").compiles
    untyped = _g3("func f():\n\tvar v = Vector2()\n\tv.rotated()\n")
    assert untyped.compiles and not untyped.valid


def test_operator_on_an_untyped_operand_compiles_typed_does_not():
    assert _g3("func f():\n\tvar a = 5\n\tvar b = a + \"x\"\n").compiles
    assert not _g3("func f():\n\tvar a := 5\n\tvar b = a + \"x\"\n").compiles


def test_renamed_method_after_a_dot_is_a_run_finding_in_godot3_only():
    code = "func f(scene):\n\tvar e = scene.instantiate()\n"
    assert _g3(code).compiles and not _g3(code).valid
    assert check(code, "gdscript", "4").valid


def test_inferring_from_a_missing_member_does_not_compile():
    code = "func f():\n\tvar d := Input.get_axis(\"a\", \"b\")\n"
    assert not _g3(code).compiles
    assert _g3("func f():\n\tvar d := Input.get_action_strength(\"a\")\n").valid


def test_godot3_members_come_from_the_generated_godot3_table():
    # process_mode is Godot 4 Node API; the hand table's Godot 4 copy used to let it through.
    assert not _g3("extends Control\nfunc _ready():\n\tprocess_mode = 1\n").valid
    assert _g3("extends Control\nfunc _ready():\n\tpause_mode = Node.PAUSE_MODE_PROCESS\n").valid


# -- what Godot 3's analyzer rejects and the static levels used to miss ---------------------------
@pytest.mark.parametrize("code", ["func f():\n\tvar a := 1\n\tvar s := \"x\"\n\tif a < s:\n\t\tpass\n",
                                  "func f():\n\tif 1 == \"x\":\n\t\tpass\n"])
def test_comparing_unrelated_typed_values_does_not_compile(code):
    assert "gd-invalid-operator" in {f.rule_id for f in _g3(code).errors}


def test_comparing_numbers_and_untyped_values_is_valid():
    assert _g3("func f(x):\n\tvar a := 1\n\tif a < 2.5 and x == \"y\":\n\t\tpass\n").valid


@pytest.mark.parametrize("code", ["func f() -> Vector2:\n\treturn 1\n", "func f() -> float:\n\treturn 1\n",
                                  "func f() -> int:\n\treturn \"a\"\n", "func f() -> int:\n\treturn\n",
                                  "func f() -> Vector2:\n\treturn null\n"])
def test_returning_a_literal_of_another_type_does_not_compile_in_godot3(code):
    assert "gd-return-mismatch" in {f.rule_id for f in _g3(code).errors}


def test_returning_the_declared_type_is_valid_and_godot4_is_untouched():
    assert _g3("func f() -> float:\n\treturn 1.0\n\nfunc g(x) -> int:\n\treturn x\n").valid
    assert check("func f() -> float:\n\treturn 1\n", "gdscript", "4").valid


@pytest.mark.parametrize("code", ["var d: Vector2 = 1\n", "var d: Array = {}\n", "var d: String = null\n"])
def test_literal_the_godot3_analyzer_cannot_convert_does_not_compile(code):
    assert "gd-type-mismatch" in {f.rule_id for f in _g3(code).errors}


@pytest.mark.parametrize("code", ["var d: Color = \"red\"\n", "var d: NodePath = \"a/b\"\n",
                                  "var d: float = 1\n", "var d: int = true\n", "var d: Node = null\n",
                                  "var d: PoolStringArray = [\"a\"]\n"])
def test_literal_the_godot3_analyzer_converts_is_valid(code):
    assert _g3(code).valid


def test_setget_naming_an_undefined_function_does_not_compile():
    assert "gd-setget-undefined" in {f.rule_id for f in _g3("var x = 1 setget set_x, get_x\nfunc set_x(v):\n\tx = v\n").errors}
    assert _g3("var x = 1 setget set_x, get_x\nfunc set_x(v):\n\tx = v\nfunc get_x():\n\treturn x\n").valid


def test_virtual_override_with_the_wrong_parameter_count_does_not_compile_in_godot3():
    assert "gd-native-override" in {f.rule_id for f in _g3("extends Node\nfunc _process():\n\tpass\n").errors}
    assert _g3("extends Node\nfunc _process(delta):\n\tpass\n").valid


def test_shadowing_a_non_virtual_engine_method_is_valid_in_godot3_not_in_godot4():
    code = "extends Node\nfunc get_name():\n\treturn 1\n"
    assert _g3(code).valid
    assert not check(code, "gdscript", "4").valid


def test_base_class_property_is_typed_in_godot3():
    assert not _g3("extends Label\nfunc f():\n\tif text.size() > 3:\n\t\tpass\n").compiles
    assert _g3("extends Label\nfunc f():\n\tif text.length() > 3:\n\t\tpass\n").valid
    assert not _g3("extends Spatial\nfunc f():\n\tvar q = -transform.basis.forward\n").compiles
    assert _g3("extends Spatial\nfunc f():\n\tvar q = -transform.basis.z\n").valid


def test_inner_class_constructor_argument_count_in_godot3():
    code = "class Item:\n\tfunc _init(n, w):\n\t\tpass\n\nfunc f():\n\tvar i = Item.new({})\n"
    assert "gd-engine-argument-count" in {f.rule_id for f in _g3(code.format("\"sword\"")).errors}
    assert _g3(code.format("\"sword\", 3.5")).valid


def test_extending_a_godot4_only_class_does_not_compile_in_godot3():
    assert "gd-api-other-version" in {f.rule_id for f in _g3("extends AnimatableBody2D\n").errors}
    assert _g3("extends StaticBody2D\n").valid
    assert check("extends AnimatableBody2D\n", "gdscript", "4").valid


def test_a_signal_passed_as_a_value_does_not_compile_in_godot3():
    code = "signal died\nfunc f():\n\tprint({})\n"
    assert "gd-godot4-value-in-godot3" in {f.rule_id for f in _g3(code.format("died")).errors}
    assert _g3(code.format("\"died\"")).valid



@pytest.mark.parametrize("target", ["3", "4"])
def test_unary_minus_keeps_the_value_type_for_member_checks(target):
    code = "func f():\n\tvar v := Vector2(1, 2)\n\tvar q = -v.{}()\n"
    assert "gd-no-member" in {f.rule_id for f in check(code.format("normalize"), "gdscript", target).errors}
    assert check(code.format("normalized"), "gdscript", target).valid
