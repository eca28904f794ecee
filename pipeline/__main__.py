"""python -m pipeline COMMAND … — the CLI twin of every studio action.

Each command lives in its own module exposing `register(subparsers)`; the handler set with
`set_defaults(func=…)` returns an exit code. Named store/job errors become one clear line on
stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "pipeline.cli_pairs",
    "pipeline.cli_curate",
    "pipeline.cli_jobs",
    "pipeline.cli_models",
    "pipeline.cli_label",
]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pipeline.store import StoreError

    args = make_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
