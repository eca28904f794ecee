"""The error rule (pipeline/errors.py): a StudioError is the user's to fix and reaches them as one
message (a UI warning, a CLI `error:` line, exit 2); anything else is a bug whose traceback is kept
(the studio's log file; the CLI's stderr too) while the user is told where to find it."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str, module: str = "pipeline", pythonpath: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=os.pathsep.join(p for p in (pythonpath, str(ROOT)) if p))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


# --- the family -----------------------------------------------------------------------------

def test_one_family_and_control_flow_is_not_a_studio_error():
    from evals.validity import UnknownLanguageError
    from pipeline.errors import ControlFlow, StudioError
    from pipeline.jobs import JobCancelled
    from pipeline.label.endpoint import NoChoices, RequestFailed, RunStopped

    assert issubclass(UnknownLanguageError, StudioError) and issubclass(UnknownLanguageError, ValueError)
    for signal in (JobCancelled, RequestFailed, NoChoices, RunStopped):
        assert issubclass(signal, ControlFlow) and not issubclass(signal, StudioError), signal
    # an `except StudioError` that reports a mistake must let a cancellation through
    with pytest.raises(JobCancelled):
        try:
            raise JobCancelled()
        except StudioError:
            pytest.fail("a StudioError handler caught a cancellation")


# --- the UI ---------------------------------------------------------------------------------

def test_a_studio_error_in_a_handler_is_one_warning_and_the_outputs_stay(studio_home):
    import gradio as gr

    from pipeline.pairs.split import SplitSettings
    from studio.common import ui_errors

    @ui_errors
    def freeze(fraction):
        return SplitSettings(test_fraction=fraction)

    with pytest.warns(UserWarning, match="test_fraction must be between 0 and 0.5, got 0.9"):
        result = freeze(0.9)
    assert result == gr.skip()   # every output keeps what it showed
    log = studio_home / "logs" / "studio.log"
    assert not log.exists() or "Traceback" not in log.read_text()   # a refusal is not a bug


def test_a_gr_error_raised_by_a_handler_is_a_warning_too(studio_home):
    import gradio as gr

    from studio.common import ui_errors

    @ui_errors
    def pick(value):
        raise gr.Error(f"{value!r} is not a job id")

    with pytest.warns(UserWarning, match="'x' is not a job id"):
        pick("x")


def test_a_handler_that_calls_another_answers_the_person_itself(studio_home):
    """A page's load runs the tab's refresh: a refusal inside is the outer handler's one gr.skip(),
    never a skip unpacked into the outer handler's outputs."""
    import gradio as gr

    from pipeline.store import NotFoundError
    from studio.common import ui_errors

    @ui_errors
    def refresh(name):
        if name == "gone":
            raise NotFoundError("no run named 'gone'")
        return name, 1

    @ui_errors
    def load(name):
        return ("banner", *refresh(name))

    assert load("kept") == ("banner", "kept", 1)
    with pytest.warns(UserWarning, match="no run named 'gone'"):
        assert load("gone") == gr.skip()
    with pytest.warns(UserWarning, match="no run named 'gone'"):
        assert refresh("gone") == gr.skip()   # called by Gradio itself, it still answers


def test_a_bug_in_a_handler_says_internal_error_and_logs_the_traceback(studio_home):
    import gradio as gr

    from studio.common import ui_errors

    @ui_errors
    def lookup(rows, key):
        return rows[key]

    with pytest.raises(gr.Error) as caught:
        lookup({"a": 1}, "secret-looking-key")
    log = studio_home / "logs" / "studio.log"
    assert caught.value.message == f"internal error, see the log ({log})"
    text = log.read_text()
    assert "internal error in tests.test_errors." in text and "lookup" in text
    assert "Traceback (most recent call last)" in text and "KeyError: 'secret-looking-key'" in text
    assert "rows[key]" in text   # the failing line is there for whoever fixes it


def test_a_visitor_told_of_a_bug_learns_no_server_path(studio_home, monkeypatch):
    import gradio as gr

    from pipeline import access
    from studio.common import ui_errors

    @ui_errors
    def lookup(rows, key):
        return rows[key]

    with access.acting_as(access.Principal(access.Role.VISITOR, "", "s1")), pytest.raises(gr.Error) as caught:
        lookup({}, "k")
    assert caught.value.message == "internal error; the studio's owner can find it in the server's log"
    assert str(studio_home) not in caught.value.message
    assert "KeyError: 'k'" in (studio_home / "logs" / "studio.log").read_text()


def test_a_bug_in_a_streaming_handler_is_logged_the_same_way(studio_home):
    import gradio as gr

    from studio.common import ui_errors

    @ui_errors
    def stream(n):
        yield "first"
        yield [1, 2][n]

    steps = stream(5)
    assert next(steps) == "first"
    with pytest.raises(gr.Error, match="internal error, see the log"):
        next(steps)
    assert "IndexError: list index out of range" in (studio_home / "logs" / "studio.log").read_text()


def test_the_log_follows_studio_home(tmp_path, monkeypatch):
    from pipeline.errors import attach_log, record_bug

    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "one"))
    assert attach_log() == tmp_path / "one" / "logs" / "studio.log"
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "two"))
    path = record_bug(RuntimeError("boom"), "a test")
    assert path == tmp_path / "two" / "logs" / "studio.log"
    assert "RuntimeError: boom" in path.read_text()
    assert "boom" not in (tmp_path / "one" / "logs" / "studio.log").read_text()


def test_startup_opens_the_log_file(studio_home):
    from studio.common import StudioContext
    from studio.shell import startup

    startup(StudioContext())
    assert (studio_home / "logs" / "studio.log").is_file()


# --- the CLI --------------------------------------------------------------------------------

BUGGY_STAGE = textwrap.dedent('''
    from pipeline.errors import ConfigError


    def register(sub):
        sub.add_parser("refuse").set_defaults(func=refuse)
        sub.add_parser("crash").set_defaults(func=crash)


    def refuse(args):
        raise ConfigError("--limit must be at least 0")


    def crash(args):
        return {}["missing"]
''')


@pytest.fixture
def buggy_cli(tmp_path):
    """A stage CLI (the shape every stage's cli.py has) with one refusal and one bug, run through
    pipeline.cli's run_cli in a real process."""
    (tmp_path / "buggy_stage.py").write_text(BUGGY_STAGE)
    (tmp_path / "buggy_main.py").write_text(
        "import sys\nfrom pipeline.cli import build_parser, run_cli\n"
        "sys.exit(run_cli(build_parser('buggy', 'a test CLI', ['buggy_stage'])))\n")
    return lambda *args: cli(tmp_path / "home", *args, module="buggy_main", pythonpath=str(tmp_path))


def test_cli_a_studio_error_is_one_line_and_exit_2(buggy_cli):
    out = buggy_cli("refuse")
    assert out.returncode == 2
    assert out.stderr == "error: --limit must be at least 0\n"


def test_cli_a_bug_prints_its_traceback_then_one_internal_error_line_exit_1(buggy_cli, tmp_path):
    out = buggy_cli("crash")
    assert out.returncode == 1
    log = tmp_path / "home" / "logs" / "studio.log"
    lines = out.stderr.rstrip("\n").splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "KeyError: 'missing'" in lines
    assert lines[-1] == f"internal error: KeyError: 'missing' (a bug; the traceback above is also in {log})"
    text = log.read_text()
    assert "internal error in buggy crash" in text and "KeyError: 'missing'" in text


def test_cli_a_converted_config_check_is_still_an_error_line(tmp_path):
    out = cli(tmp_path, "validity", module="evals")
    assert (out.returncode, out.stderr) == (2, "error: give a path or --code\n")


def test_cli_a_missing_user_file_is_an_error_line_not_a_traceback(tmp_path):
    out = cli(tmp_path, "pairs", "edit", "1", "--field", "output", "--value-file", str(tmp_path / "nope.txt"))
    assert out.returncode == 2
    assert out.stderr == f"error: cannot read value file {tmp_path / 'nope.txt'}: No such file or directory\n"


# --- user input turned into StudioErrors at the boundary ------------------------------------

@pytest.mark.parametrize("target, args, kwargs, message", [
    ("pipeline.pairs.split:SplitSettings", (), {"group_by": "planet"}, "group_by must be one of"),
    ("pipeline.clean.job:CleanConfig", (), {"dedup_on": "title"}, "dedup_on must be output or pair"),
    ("pipeline.pairs.importer:ImportConfig", (), {"path": "x.jsonl", "shape": "poem"}, "shape must be one of"),
    ("pipeline.models.templates:check_template", ("vicuna",), {}, "unknown prompt template 'vicuna'"),
    ("pipeline.curate.commit_filters:rejection", ("", "", ["nope"]), {}, "unknown commit filters"),
    ("evals.validity:check", ("x = 1\n", "python"), {"levels": "vibes"}, "unknown level"),
    ("evals.validity:check", ("x", "cobol"), {}, "no tree-sitter grammar registered for 'cobol'"),
    ("evals.validity.answers:load_answers", ("/no/such/answers.jsonl",), {}, "does not exist"),
    ("evals.validity.answers:answer_of", ({"id": 7},), {}, "row 7 has none of the fields"),
    ("evals.judge.multiturn:expand_turns", ([{"turns": ["a", "b"]}], "rubric"), {}, "multi-turn"),
])
def test_user_input_errors_are_studio_errors_with_a_clear_message(target, args, kwargs, message):
    import importlib

    from pipeline.errors import StudioError

    module, name = target.split(":")
    with pytest.raises(StudioError, match=message):
        getattr(importlib.import_module(module), name)(*args, **kwargs)
