"""python -m evals COMMAND … — pass@k in a sandbox and syntax validity, the CLI twin of the Evals tab."""
from __future__ import annotations

import sys

from pipeline.cli import build_parser, cli_modules, run_cli

COMMAND_MODULES = cli_modules('evals')  # every stage's cli.py (found by pipeline.cli.cli_modules)


def make_parser():
    return build_parser("python -m evals", __doc__.splitlines()[0], COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_cli(make_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
