"""python -m pipeline COMMAND … — the CLI twin of every studio action.

Each command lives in its own module exposing `register(subparsers)`; the handler set with
`set_defaults(func=…)` returns an exit code. Named store/job errors become one clear line on
stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import sys

from pipeline.cli_common import build_parser, run_cli

COMMAND_MODULES = [
    "pipeline.cli_curate",
    "pipeline.cli_label",
    "pipeline.cli_pairs",
    "pipeline.cli_models",
    "pipeline.cli_jobs",
]


def make_parser():
    return build_parser("python -m pipeline", __doc__.splitlines()[0], COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_cli(make_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
