"""The compile level runs its compilers inside the pass@k sandbox (issue 10, item 3), and for
Godot 3 answers it is godot3-server --check-only on the answer plus the reviewer's stubs."""
from evals.validity import check, check_many, compilers
from evals.validity.answers import check_answers


def test_include_of_a_host_file_cannot_read_it(tmp_path):
    secret = tmp_path / "secret.h"
    secret.write_text("TOKEN_5f1c9 = leaked;\n")
    findings = compilers.compile_check(f'#include "{secret}"\nint main(void) {{ return 0; }}\n', "c")
    text = " ".join(f.message for f in findings)
    assert findings and findings[0].rule_id == "compile-c"
    assert "TOKEN_5f1c9" not in text and "No such file" in text
    # the worker is still usable afterwards
    assert compilers.compile_check("int main(void) { return 0; }\n", "c") == []


def test_compile_level_is_off_where_code_execution_is(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/space")
    monkeypatch.delenv("STUDIO_ALLOW_CODE_EXECUTION", raising=False)
    findings = compilers.compile_check("int f(void) { return 1; } /* hosted */\n", "c")
    assert [(f.rule_id, f.severity) for f in findings] == [("compile-disabled", "info")]


def test_godot3_compiler_accepts_a_valid_godot3_answer():
    code = "extends KinematicBody2D\n\nvar velocity = Vector2()\n\nfunc _physics_process(delta):\n" \
           "\tvelocity = move_and_slide(velocity, Vector2.UP)\n"
    result = check(code, "gdscript", "3", levels=("compile",))
    assert result.valid and not result.findings


def test_godot3_compiler_rejects_godot4_syntax_with_its_line():
    code = "extends Node2D\n\n@export var speed = 10\n"
    finding = check(code, "gdscript", "3", levels=("compile",)).errors[0]
    assert finding.rule_id == "compile-gdscript" and finding.line == 3


def test_reviewer_stubs_let_user_made_calls_compile_in_godot3():
    code = "extends Node2D\n\nfunc _ready():\n\tspawn_enemy(3, Vector2())\n\tscore += 1\n"
    assert check(code, "gdscript", "3", levels=("refs", "compile")).valid
    stubs = compilers.gdscript_stubs({"spawn_enemy": "call", "score": "name"})
    assert "func spawn_enemy(" in stubs and "var score = null" in stubs


def test_godot3_compile_runs_as_a_batch_per_target():
    rows = [{"id": 1, "target": "3", "code": "extends Node\nfunc f():\n\tpass\n"},
            {"id": 2, "target": "3", "code": "extends Node\nfunc f(:\n"}]
    results = check_answers(rows, "gdscript", levels="parse,compile", jobs=2)
    assert [r.valid for r in results] == [True, False], [[str(f) for f in r.findings] for r in results]
    assert [r.valid for r in check_many([rows[0]["code"]], "gdscript", "3", ("compile",))] == [True]


def test_preloaded_project_resources_do_not_stop_the_godot3_compiler():
    code = "extends Node2D\n\nconst Enemy = preload(\"res://enemy.tscn\")\nvar boss = preload(\"res://boss.tscn\")\n\n" \
           "func f():\n\tadd_child(Enemy.instance())\n"
    assert compilers.without_project_resources(code).count("load(") == 2
    assert check(code, "gdscript", "3", levels=("compile",)).valid


def test_parses_in_parallel_threads_give_the_verdicts_of_sequential_parses():
    # check_many's compile pool parses on several threads; gdtoolkit's Lark indenter keeps state
    # while it runs, so a parser shared between threads turned valid answers invalid at random.
    from concurrent.futures import ThreadPoolExecutor

    from evals.validity.gdscript import _gdtoolkit_parse

    texts = ["extends Node\nfunc f(a):\n\tif a:\n\t\tfor i in range(a):\n\t\t\tprint(i)\n\treturn [\n\t\t1,\n\t\t2]\n",
             "extends Node\nfunc f(:\n\tpass\n",
             "func g():\n\tvar d = {\n\t\t'a': 1,\n\t}\n\twhile true:\n\t\tbreak\n"] * 40
    sequential = [bool(_gdtoolkit_parse(t)) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda t: bool(_gdtoolkit_parse(t)), texts))
    assert parallel == sequential == [False, True, False] * 40


# Issue 22, item 3: outside the homes, /tmp and STUDIO_HOME (here: a file in the checkout) the
# compiler sees nothing of the host either: only the answer's files and the toolchains.
def _canary(tmp_name: str, text: str):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / tmp_name
    path.write_text(text)
    return path


def test_include_of_a_file_outside_the_hidden_dirs_cannot_read_it():
    secret = _canary(".validity-canary-cpp.h", "zebracanary_cpp_4711 leaked;\n")
    try:
        findings = compilers.compile_check(f'#include "{secret}"\nint f() {{ return 1; }}\n', "cpp")
    finally:
        secret.unlink()
    text = " ".join(f.message for f in findings)
    assert findings and findings[0].rule_id == "compile-cpp"
    assert "zebracanary_cpp_4711" not in text and "No such file" in text
    assert compilers.compile_check("int f() { return 1; }\n", "cpp") == []


def test_define_tricks_on_host_config_files_reveal_nothing():
    # One word of a host file per call: /etc/hostname holds one; only toolchain /etc entries exist.
    findings = compilers.compile_check('#define STR(x) #x\nconst char* h =\n#include "/etc/hostname"\n;\n', "cpp")
    text = " ".join(f.message for f in findings)
    assert findings and "No such file" in text


def test_include_in_rust_cannot_read_a_checkout_file():
    secret = _canary(".validity-canary-rs.txt", "zebracanary_rust_4711")
    try:
        findings = compilers.compile_check(
            f'pub const S: u8 = include!("{secret}");\n', "rust")
    finally:
        secret.unlink()
    text = " ".join(f.message for f in findings)
    assert findings and "zebracanary_rust_4711" not in text
    assert compilers.compile_check("pub fn f() -> u8 { 1 }\n", "rust") == []
