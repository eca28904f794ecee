"""The one config mechanism: a job dataclass gives the CLI flags, the limits, the saved params and
the generated command line, and the UI validates through the same code as the CLI."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from evals.__main__ import make_parser as evals_parser
from evals.passk.generate import EvalConfig
from pipeline.__main__ import make_parser as pipeline_parser
from pipeline.clean.job import CleanConfig
from pipeline.curate.job import CurateConfig
from pipeline.errors import ConfigError, StudioError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("params, message", [
    ({"model": "m", "limit": -3}, "--limit must be at least 0 (got -3)"),
    ({"model": "m", "n_samples": 0}, "--n-samples must be at least 1 (got 0)"),
    ({"model": "m", "prompt_format": "poem"}, "--prompt-format must be one of chat, continuation"),
    ({"model": "m", "top_p": 1.5}, "--top-p must be at most 1.0 (got 1.5)"),
])
def test_limits_from_field_metadata_are_enforced(params, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        EvalConfig.from_dict(params)


def test_unknown_keys_are_refused_for_every_config():
    for cls in (EvalConfig, CurateConfig, CleanConfig):
        with pytest.raises(ConfigError, match="unknown .* setting"):
            cls.from_dict({"no_such_setting": 1})


def test_config_errors_are_studio_errors_and_value_errors():
    with pytest.raises(StudioError):
        EvalConfig.from_dict({"model": ""})
    assert issubclass(ConfigError, ValueError)


def test_optional_numbers_and_lists_parse_from_strings():
    cfg = EvalConfig.from_dict({"model": "m", "seed": "7", "limit": "5", "execute": "no"})
    assert (cfg.seed, cfg.limit, cfg.execute) == (7, 5, False)
    cfg = CurateConfig.from_dict({"languages": "python,gdscript", "repo_ids": ["3", "4"]})
    assert cfg.languages == ["python", "gdscript"] and cfg.repo_ids == [3, 4]


def test_generated_command_line_parses_back_to_the_same_config():
    cfg = EvalConfig.from_dict({"model": "my model's name", "limit": 5, "n_samples": 3,
                                "temperature": 0.8, "execute": False, "name": "a b"})
    line = cfg.command_line("python -m evals passk run")
    argv = shlex.split(line)
    assert argv[:3] == ["python", "-m", "evals"]
    args = evals_parser().parse_args(argv[3:])
    assert EvalConfig.from_args(args) == cfg


def test_generated_command_line_runs_as_shown(tmp_path):
    """The line the UI shows is refused by the real CLI with the same message the UI gave."""
    cfg = EvalConfig(model="m", limit=-3)
    line = cfg.command_line("python -m evals passk run")
    proc = subprocess.run([sys.executable, *shlex.split(line)[1:]], cwd=ROOT, capture_output=True, text=True,
                          env={"STUDIO_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --limit must be at least 0 (got -3)"


def test_every_config_field_becomes_a_flag():
    parser = pipeline_parser()
    help_text = parser._subparsers._group_actions[0].choices["curate"].format_help()
    assert "curate" in help_text
    run = evals_parser()._subparsers._group_actions[0].choices["passk"]
    run_help = run._subparsers._group_actions[0].choices["run"].format_help()
    for name in EvalConfig.__dataclass_fields__:
        assert "--" + name.replace("_", "-") in run_help
