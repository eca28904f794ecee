"""``python -m evals validity`` end to end (in-process through the same argparse wiring)."""
import argparse
import json

from evals.validity import cli as cli_validity


def _run(argv):
    parser = argparse.ArgumentParser()
    cli_validity.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["validity", *argv])
    return args.func(args)


def test_jsonl_run_prints_summary_and_agreement(tmp_path, capsys):
    rows = [{"id": "a", "code": "extends Node\nonready var x = 1\n", "target": "4", "valid": False},
            {"id": "b", "code": "extends Node\n@onready var x = 1\n", "target": "4", "valid": True}]
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert _run([str(path)]) == 0
    out = capsys.readouterr().out
    assert "agreement with 'valid' labels: 2/2" in out and "gd4-onready" in out


def test_out_file_has_one_result_per_answer(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "a", "completion": "var a = 1\n"}) + "\n"
                    + json.dumps({"id": "b", "completion": "var = \n"}) + "\n")
    out = tmp_path / "results.jsonl"
    _run([str(path), "--target", "4", "--out", str(out), "--quiet"])
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["valid"]) for r in results] == [("a", True), ("b", False)]


def test_code_snippet_reports_findings(capsys):
    _run(["--code", "func f():\\n\\tyield(get_tree(), \\\"idle_frame\\\")", "--target", "4"])
    assert "gd4-yield" in capsys.readouterr().out


def test_source_file_language_comes_from_its_suffix(tmp_path, capsys):
    path = tmp_path / "answer.py"
    path.write_text("print(undefined_thing)\n")
    _run([str(path)])
    assert "py-undefined-name" in capsys.readouterr().out


def test_prompt_field_sets_the_godot_version(tmp_path, capsys):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"prompt": "In Godot 3, add a label", "output": "onready var l = $L\n"}))
    _run([str(path), "--quiet"])
    assert "   1       1" in capsys.readouterr().out


def test_a_malformed_jsonl_line_is_named_and_exits_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "answers.jsonl"
    bad.write_text('{"code": "func f():\\n\\tpass"}\n{not json\n')
    out = subprocess.run([sys.executable, "-m", "evals", "validity", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "answers.jsonl line 2: not valid JSON" in out.stderr
