"""What `python -m pipeline` and `python -m evals` share: one parser built from command modules
(each exposes `register(subparsers)` and sets `func`), and one way to end: the project's named
errors become a single `error: …` line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import argparse
import importlib
import sys


def build_parser(prog: str, description: str, modules: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    from pipeline.errors import StudioError

    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (StudioError, ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`: the reader left, which is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
