"""Extraction per language on code written here: names, class context, what is cut and kept."""
from __future__ import annotations

from pipeline.curate.extract import content_hash, parse_definitions, select_snippets
from pipeline.curate.languages import LANGUAGES, language_for_path


def by_name(source: str, language: str, **kw) -> dict:
    return {d.qualname: d for d in parse_definitions(source, language, **kw).definitions}


PY = '''\
import functools

# Adds things.
# Twice.
@functools.lru_cache(maxsize=None)
def add(a, b):
    """Return a + b."""
    # keep me
    total = a + b
    return total

class Player:
    def move(self, dx):
        def clamp(v): return max(0, v)
        return clamp(dx)

async def one_liner(): return 1
'''


def test_python_functions_methods_and_nested_have_their_context():
    defs = by_name(PY, "python")
    assert set(defs) == {"add", "Player.move", "Player.move.clamp", "one_liner"}
    assert (defs["Player.move"].kind, defs["Player.move"].class_name) == ("method", "Player")
    assert (defs["Player.move.clamp"].kind, defs["Player.move.clamp"].name) == ("function", "clamp")
    assert defs["one_liner"].code == "async def one_liner(): return 1"


def test_python_decorator_kept_comment_above_and_docstring_cut_inner_comment_kept():
    add = by_name(PY, "python")["add"]
    assert add.code == ("@functools.lru_cache(maxsize=None)\ndef add(a, b):\n    # keep me\n"
                        "    total = a + b\n    return total")
    assert add.docstring == "Return a + b.\n\nAdds things.\nTwice."
    assert (add.start_line, add.end_line, add.name_line) == (5, 10, 6)


def test_methods_are_dedented_to_column_zero():
    move = by_name(PY, "python")["Player.move"]
    assert move.code.startswith("def move(self, dx):\n    def clamp")
    assert move.code.splitlines()[-1] == "    return clamp(dx)"


def test_docstring_only_function_is_marked_and_skipped():
    defs = parse_definitions('def stub():\n    """Only a docstring."""\n', "python").definitions
    kept, skipped = select_snippets(defs, min_lines=1)
    assert kept == [] and skipped == {"docstring only": 1}


def test_unicode_and_crlf_source():
    src = 'def grüße(name):\r\n    # ünïcödé 🎮\r\n    return f"héllo {name}"\r\n'
    d = by_name(src, "python")["grüße"]
    assert d.code == 'def grüße(name):\n    # ünïcödé 🎮\n    return f"héllo {name}"'
    assert "\r" not in d.code and d.lines == 3


def test_syntax_error_skips_that_function_and_reports_it_the_rest_extracted():
    src = "def ok():\n    return 1\n\ndef broken(:\n    return 2\n\ndef last():\n    return 4\n"
    found = parse_definitions(src, "python")
    kept, skipped = select_snippets(found.definitions, min_lines=1)
    assert [d.name for d in kept] == ["ok", "last"]
    assert skipped["syntax error"] == 1
    assert any("line 4" in e and "broken" in e for e in found.errors)


def test_error_outside_any_function_is_reported_with_its_lines():
    src = "x = = 1\n\ndef fine():\n    return 2\n"
    found = parse_definitions(src, "python")
    assert [d.name for d in found.definitions if not d.error] == ["fine"]
    assert found.errors and found.errors[0].startswith("line 1")


GD_TABS = """extends CharacterBody2D
class_name Player

## Moves the player.
@rpc("any_peer")
func move(delta: float) -> void:
\t# inside
\tposition.x += speed * delta

static func one(): return 1

class Inner:
\tfunc inner_m():
\t\tpass
"""


def test_gdscript_with_tabs_class_name_annotation_and_inner_class():
    defs = by_name(GD_TABS, "gdscript")
    assert set(defs) == {"Player.move", "Player.one", "Inner.inner_m"}
    move = defs["Player.move"]
    assert move.code == '@rpc("any_peer")\nfunc move(delta: float) -> void:\n\t# inside\n\tposition.x += speed * delta'
    assert move.docstring == "Moves the player." and move.kind == "method"
    assert defs["Inner.inner_m"].code == "func inner_m():\n\tpass"


def test_gdscript_with_spaces_and_godot3_syntax():
    src = "tool\nextends Node2D\n\nremote func sync_pos(p):\n    position = p\n\nfunc _init(a).(a):\n    pass\n"
    defs = by_name(src, "gdscript")
    assert defs["sync_pos"].code == "remote func sync_pos(p):\n    position = p"
    assert "_init" in defs
    assert parse_definitions(src, "gdscript").errors == []


def test_javascript_functions_arrows_classes_and_export():
    src = ("// Doubles.\nexport function double(x) {\n  return x * 2;\n}\n"
           "const half = (x) => {\n  return x / 2;\n};\n"
           "class Shape {\n  /** Area. */\n  area() { return 0; }\n  static *gen() {}\n}\n")
    defs = by_name(src, "javascript")
    assert set(defs) == {"double", "half", "Shape.area", "Shape.gen"}
    assert defs["double"].code.startswith("export function double(x)") and defs["double"].docstring == "Doubles."
    assert defs["half"].code == "const half = (x) => {\n  return x / 2;\n};"
    assert (defs["Shape.area"].kind, defs["Shape.area"].docstring) == ("method", "Area.")


def test_typescript_decorated_method_and_overload_signature_skipped():
    src = ("abstract class Repo<T> {\n  @log() save(x: T): void { console.log(x); }\n  abstract load(): T;\n}\n"
           "function over(a: string): void;\nfunction over(a: any) { return a; }\n")
    defs = by_name(src, "typescript")
    assert set(defs) == {"Repo.save", "over"}
    assert defs["Repo.save"].code == "@log() save(x: T): void { console.log(x); }"
    assert defs["over"].code == "function over(a: any) { return a; }"


def test_go_functions_and_methods_with_receiver_type():
    src = ("package main\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n\n"
           "func (s *Server) Start() error {\n\t// inner\n\treturn nil\n}\n")
    defs = by_name(src, "go")
    assert defs["Add"].docstring == "Add adds."
    assert (defs["Server.Start"].kind, defs["Server.Start"].class_name) == ("method", "Server")
    assert "// inner" in defs["Server.Start"].code


def test_rust_attributes_doc_comments_and_impl_methods():
    src = ("/// Adds one.\n#[inline]\npub fn inc(a: i32) -> i32 { a + 1 }\n"
           "impl<T> Stack<T> {\n    fn push(&mut self, v: T) { self.items.push(v); }\n}\n")
    defs = by_name(src, "rust")
    assert defs["inc"].code == "#[inline]\npub fn inc(a: i32) -> i32 { a + 1 }"
    assert defs["inc"].docstring == "Adds one."
    assert (defs["Stack.push"].kind, defs["Stack.push"].class_name) == ("method", "Stack")


def test_java_methods_constructors_and_annotations_not_abstract_ones():
    src = ("class Cat {\n    /** Says hi. */\n    @Override\n    public String toString() { return \"cat\"; }\n"
           "    Cat() {}\n    interface Pet { void pet(); }\n}\n")
    defs = by_name(src, "java")
    assert set(defs) == {"Cat.toString", "Cat.Cat"}
    assert defs["Cat.toString"].code.startswith("@Override\npublic String toString()")
    assert defs["Cat.toString"].docstring == "Says hi."


def test_c_functions_including_pointer_returns():
    src = "/* Sum. */\nstatic int sum(int a, int b) { return a + b; }\nchar *name(void)\n{\n  return 0;\n}\n"
    defs = by_name(src, "c")
    assert set(defs) == {"sum", "name"} and defs["sum"].docstring == "Sum."
    assert defs["name"].code == "char *name(void)\n{\n  return 0;\n}"


def test_cpp_methods_out_of_class_definitions_and_templates():
    src = ("class A {\n public:\n  int m(int x) { return x; }\n};\n"
           "int A::out(int z) const { return z; }\n"
           "template <typename T> T id(T v) { return v; }\n")
    defs = by_name(src, "cpp")
    assert set(defs) == {"A.m", "A.out", "id"}
    assert defs["A.out"].class_name == "A" and defs["A.out"].kind == "method"
    assert defs["id"].code.startswith("template <typename T>")


def test_lua_local_module_and_method_functions():
    src = ("-- Local helper.\nlocal function f(a) return a end\n"
           "function M.g(x)\n  -- inner\n  return x\nend\nfunction M:h() end\nlocal k = function() end\n")
    defs = by_name(src, "lua")
    assert set(defs) == {"f", "M.g", "M.h", "k"}
    assert defs["f"].docstring == "Local helper."
    assert defs["M.h"].kind == "method" and defs["M.h"].class_name == "M"
    assert defs["k"].code == "local k = function() end"


def test_classes_are_extracted_only_when_asked():
    assert "Player" not in by_name(PY, "python")
    assert by_name(PY, "python", include_classes=True)["Player"].kind == "class"


def test_min_and_max_lines_select_snippets():
    defs = parse_definitions(PY, "python").definitions
    kept, skipped = select_snippets(defs, min_lines=3, max_lines=4)
    assert [d.qualname for d in kept] == ["Player.move"]
    assert skipped == {"too short": 2, "too long": 1}


def test_content_hash_ignores_line_endings_and_trailing_spaces_only():
    assert content_hash("def f():\n    return 1") == content_hash("def f():  \r\n    return 1\n")
    assert content_hash("def f():\n    return 1") != content_hash("def f():\n    return 2")


def test_every_language_row_compiles_and_maps_its_extensions():
    for name, spec in LANGUAGES.items():
        assert parse_definitions("", name).definitions == []
        for ext in spec.extensions:
            assert language_for_path(f"dir/file{ext}").name == name
    assert language_for_path("README.md") is None


def test_f_string_first_statement_is_code_not_a_docstring():
    d = by_name('def f(x):\n    f"{x}"\n    return x\n', "python")["f"]
    assert d.docstring is None and 'f"{x}"' in d.code


def test_computed_method_names_are_kept_whole():
    defs = by_name("class A {\n  [Symbol.iterator]() { return 1; }\n}\n", "javascript")
    assert list(defs) == ["A.[Symbol.iterator]"]
