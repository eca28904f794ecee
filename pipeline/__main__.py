"""python -m pipeline COMMAND … — the CLI twin of every studio action.

Each command lives in its own module exposing `register(subparsers)`; the handler set with
`set_defaults(func=…)` returns an exit code. Named store/job errors become one clear line on
stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import sys

from pipeline.cli import build_parser, cli_modules, run_cli

COMMAND_MODULES = cli_modules('pipeline')  # every stage's cli.py (found by pipeline.cli.cli_modules)


def make_parser():
    return build_parser("python -m pipeline", __doc__.splitlines()[0], COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_cli(make_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
