"""``python -m evals validity``: check answers for syntax validity and print a summary.

    python -m evals validity answers.jsonl --language gdscript --target 4
    python -m evals validity answers.jsonl --levels parse,dialect,refs,semantic,compile --out r.jsonl
    python -m evals validity --code 'func f():\n\tyield(x, "y")' --target 4
    python -m evals validity player.gd --project path/to/project.godot
    python -m evals validity answers.jsonl --target 3 --levels parse,dialect,refs,semantic,compile

--user-refs: "amend" (default for answers: names neither in the answer nor engine API are
user-made, stubbed as a reviewer would before compiling) or "strict" (default for a source
file: every such name is an error when the base class is known).

JSONL rows: the answer is read from --field (default: the first of code, completion,
output, answer, response); a row's own "target" and "prompt"/"instruction" set the Godot
version when --target is not given; a boolean "valid" label is compared with the verdict.
A path that is not .jsonl is checked as one source file (language from its suffix).
"""
from __future__ import annotations

import argparse
import json
import sys

from evals.validity.answers import check_answers, load_answers, summarize
from pipeline.errors import ConfigError
from pipeline.paths import write_user_text


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "validity", help="syntax validity of answers (parse, Godot 3/4 dialect, undefined names, compile)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", help="answers .jsonl, or one source file")
    parser.add_argument("--code", help="check this snippet instead of a file ('\\n' and '\\t' are unescaped)")
    parser.add_argument("--language", default=None,
                        help="gdscript (default), python, javascript, typescript, go, rust, java, c, cpp, lua")
    parser.add_argument("--target", choices=["3", "4"], default=None,
                        help="Godot version; default: per-row target, prompt, --project, else 4")
    parser.add_argument("--project", default=None, help="project.godot (or its folder) giving the Godot version")
    parser.add_argument("--levels", default="parse,dialect,refs,semantic",
                        help="comma list from parse,dialect,refs,semantic,lint,compile")
    parser.add_argument("--base-class", default=None,
                        help="engine class a script without 'extends' is checked against (default: any)")
    parser.add_argument("--user-refs", choices=["amend", "strict"], default=None,
                        help="GDScript reference mode; default: amend for answers (.jsonl, --code), "
                             "strict for a source file")
    parser.add_argument("--field", default=None, help="JSONL field holding the answer")
    parser.add_argument("--out", default=None, help="write one JSON result per answer to this .jsonl")
    parser.add_argument("--jobs", type=int, default=4, help="parallel toolchain runs for the compile level")
    parser.add_argument("--quiet", action="store_true", help="summary only, no per-answer findings")
    parser.set_defaults(func=run)
    return parser


def _load(args) -> tuple[list[dict], str]:
    if args.code is not None:
        code = args.code.replace("\\n", "\n").replace("\\t", "\t")
        return [{"id": "snippet", "code": code}], args.language or "gdscript"
    if not args.path:
        raise ConfigError("give a path or --code")
    return load_answers(args.path, args.language)


def run(args) -> int:
    rows, language = _load(args)
    user_refs = args.user_refs or ("strict" if args.path and not str(args.path).endswith(".jsonl")
                                   and args.code is None else "amend")
    results = check_answers(rows, language, target=args.target, levels=args.levels, field=args.field,
                            project=args.project, base_class=args.base_class, user_refs=user_refs,
                            jobs=args.jobs)
    if not args.quiet:
        for index, (row, result) in enumerate(zip(rows, results)):
            if result.findings:
                verdict = "valid" if result.valid else "INVALID"
                print(f"== {row.get('id', index)}: {verdict}")
                for finding in result.findings:
                    print(f"   {finding}")
    _print_summary(language, dict(summarize(rows, results), user_refs=user_refs if language == "gdscript" else None))
    if args.out:
        write_user_text(args.out, "".join(json.dumps({"id": row.get("id", index), **result.to_dict()}) + "\n"
                                          for index, (row, result) in enumerate(zip(rows, results))))
    return 0


def _print_summary(language: str, summary: dict) -> None:
    print(f"\n{'language':<12}{'answers':>8}{'valid':>8}{'rate':>9}   target   levels")
    print(f"{language:<12}{summary['answers']:>8}{summary['valid']:>8}{summary['rate']:>8.1%}   "
          f"{','.join(summary['targets']) or '-':<8} {','.join(summary['levels']) or '-'}")
    if summary.get("user_refs"):
        print(f"user-made references: {summary['user_refs']}")
    if summary["labelled"]:
        print(f"agreement with 'valid' labels: {summary['agree']}/{summary['labelled']} = "
              f"{summary['agree'] / summary['labelled']:.1%}")
    if summary["rules"]:
        print("\nrule id                                   answers")
        for rule, count in list(summary["rules"].items())[:15]:
            print(f"{rule:<42}{count:>7}")
    sys.stdout.flush()
