"""The amend protocol's extends line (issue 14): an answer without ``extends`` is compiled the way
a reviewer pastes it — attached to a node of the engine class its own members need — not as the
Reference Godot 3 makes of an extends-less file. The compile level adds the line and says so; the
static Godot 3 prediction checks against the same class; strict mode and answers that declare
their own class are left alone."""
import shutil

import pytest

from evals.validity import check, compilers
from evals.validity.gdscript import implied_base_class
from evals.validity.gdscript_analysis import analyze
from evals.validity.treesitter import parse

needs_godot3 = pytest.mark.skipif(shutil.which("godot3-server") is None, reason="godot3-server not installed")

NODE = "func _ready():\n\tget_tree().paused = false\n\tadd_child(Node.new())\n\tvar t = get_node(\"Timer\")\n"
CANVAS = "func _ready():\n\tmodulate = Color(1, 0.5, 0.5)\n\tposition = Vector2(10, 20)\n\trotation += 0.5\n"
CONTROL = "func _ready():\n\trect_size = Vector2(100, 40)\n\trect_position.x = 8\n\tshow()\n"
KINEMATIC = ("var velocity = Vector2()\n\nfunc _physics_process(delta):\n\tvelocity.y += 980 * delta\n"
             "\tvelocity = move_and_slide(velocity, Vector2.UP)\n\tif is_on_floor():\n\t\tspawn_dust(position)\n")


def _base(code: str, target: str = "3") -> str:
    return implied_base_class(analyze(parse(code, "gdscript")), target)[0]


def _amended(result) -> list[str]:
    return [f.message for f in result.findings if f.rule_id == "compile-amended-extends"]


@pytest.mark.parametrize("code,base", [(NODE, "Node"), (CANVAS, "Node2D"), (CONTROL, "Control"),
                                       (KINEMATIC, "KinematicBody2D"),
                                       ("func f(a, b):\n\treturn a + b\n", "Node"),
                                       ("func f():\n\tmodulate.a = 0.5\n", "Node2D"),
                                       ("func f():\n\tif self.rect_min_size.x > 3:\n\t\tpass\n", "Control"),
                                       ("func f(v):\n\tv = move_and_slide(v)\n\ttranslation.y = 1\n",
                                        "KinematicBody")])
def test_the_implied_base_is_the_first_common_class_with_every_bare_member(code, base):
    assert _base(code) == base


def test_godot4_uses_the_godot4_table():
    assert _base("func f():\n\tvelocity.y = 1\n\tmove_and_slide()\n", "4") == "CharacterBody2D"
    assert _base("func f():\n\tsize = Vector2(1, 1)\n\tgrab_focus()\n", "4") == "Control"


@needs_godot3
@pytest.mark.parametrize("code,base", [(NODE, "Node"), (CANVAS, "Node2D"), (CONTROL, "Control"),
                                       (KINEMATIC, "KinematicBody2D")])
def test_extendsless_answers_compile_under_amend_with_the_implied_extends(code, base):
    result = check(code, "gdscript", "3", levels=("refs", "compile"))
    assert result.valid, [str(f) for f in result.findings]
    assert [f"'extends {base}'" in m for m in _amended(result)] == [True]
    assert check(code, "gdscript", "3").compiles  # the static prediction agrees


@needs_godot3
def test_an_extendsless_answer_that_misuses_the_engine_api_still_fails_on_its_own_line():
    code = "func _ready():\n\tget_tree().paused = false\n\tadd_child()\n"
    result = check(code, "gdscript", "3", levels=("compile",))
    errors = [f for f in result.errors if f.rule_id == "compile-gdscript"]
    assert errors and errors[0].line == 3 and "add_child" in errors[0].message  # the answer's line
    assert _amended(result)
    static = check(code, "gdscript", "3")
    assert not static.compiles and "gd-engine-argument-count" in {f.rule_id for f in static.errors}


@needs_godot3
def test_a_wrong_virtual_override_in_an_extendsless_answer_fails_both_ways():
    code = "func _process():\n\tget_tree().quit()\n"
    assert not check(code, "gdscript", "3", levels=("compile",)).valid
    assert "gd-native-override" in {f.rule_id for f in check(code, "gdscript", "3").errors}


@needs_godot3
def test_godot3_tool_keyword_stays_valid_with_the_added_line():
    result = check("tool\n" + CANVAS, "gdscript", "3", levels=("compile",))
    assert result.valid and _amended(result)


@needs_godot3
@pytest.mark.parametrize("code", ["extends Reference\nfunc f():\n\tpass\n",
                                  "extends \"res://base.gd\"\nfunc f():\n\tpass\n",
                                  "class_name Util\n\nstatic func twice(x):\n\treturn x * 2\n"])
def test_an_answer_that_declares_its_own_class_is_untouched(code):
    assert not _amended(check(code, "gdscript", "3", levels=("compile",)))


def test_an_answer_with_its_own_extends_is_compiled_as_written(monkeypatch):
    seen = []
    monkeypatch.setattr(compilers, "compile_many", lambda codes, *a, **k: seen.extend(codes) or [[]])
    code = "extends Node2D\n\nfunc _ready():\n\tmodulate = Color(1, 1, 1)\n"
    check(code, "gdscript", "3", levels=("compile",))
    assert seen and seen[0].startswith(code) and seen[0].count("extends") == 1


def test_strict_mode_and_an_explicit_base_class_do_not_infer(monkeypatch):
    seen = []
    monkeypatch.setattr(compilers, "compile_many", lambda codes, *a, **k: seen.extend(codes) or [[]])
    check(CANVAS + "# strict\n", "gdscript", "3", levels=("compile",), user_refs="strict")
    assert "extends" not in seen[-1]
    check(CANVAS + "# given\n", "gdscript", "3", levels=("compile",), base_class="Sprite")
    assert seen[-1].startswith("extends Sprite\n")


@needs_godot3
def test_strict_mode_compiles_an_extendsless_answer_as_godot_does():
    result = check(NODE, "gdscript", "3", levels=("compile",), user_refs="strict")
    assert not result.valid and not _amended(result)
    assert "get_tree" in result.errors[0].message


def test_the_line_goes_after_a_leading_godot4_tool_annotation():
    code, line = compilers.with_extends("# c\n@tool\nfunc f():\n\tpass\n", "Node")
    assert code == "# c\n@tool\nextends Node\nfunc f():\n\tpass\n" and line == 3
    assert compilers.with_extends("func f():\n\tpass\n", "Node") == ("extends Node\nfunc f():\n\tpass\n", 1)


@needs_godot3
def test_members_no_one_engine_class_has_fail_both_ways():
    code = "func _ready():\n\tposition.x = 4\n\trect_position.x = 1\n"
    assert not check(code, "gdscript", "3", levels=("compile",)).valid
    static = check(code, "gdscript", "3")
    assert not static.compiles and [f.line for f in static.errors if f.rule_id == "gd-no-common-base"] == [3]
    strict = check(code, "gdscript", "3", user_refs="strict")  # strict infers no base
    assert "gd-no-common-base" not in {f.rule_id for f in strict.findings}
