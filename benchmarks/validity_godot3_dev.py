"""Godot 3 development set: the static levels against godot3-server --check-only (issue 14).

    .venv/bin/python benchmarks/validity_godot3_dev.py --label   # (re)label with the compiler
    .venv/bin/python benchmarks/validity_godot3_dev.py           # agreement + each disagreement

The set (tests/data/gdscript3_dev.jsonl) is built from tests/data/gdscript3_dev_source.py:
hand-written Godot 3 answers and faulty variants, NOT the blind set. Its label is the compile
level's verdict (godot3-server 3.2.3 --check-only in the sandbox, on the answer plus the
reviewer's stubs for user-made names), so this measures "do the static levels predict the
compiler", the figure benchmarks/validity.py reports once on blind2's Godot 3 part: the
prediction is ``ValidityResult.compiles`` (no error Godot reports at compile time; a finding
with when="run" — a member of an untyped value — is invalid for a reviewer but the compiler
never sees it).
Since the amend protocol's extends line (answers without ``extends`` are compiled attached to the
engine class their own members need, see evals/validity/gdscript.implied_base_class) the set also
has extends-less answers (``noext-*``), relabelled with that compile level; the other labels did
not change. amend: 98.7% (132/3/98/0, n=233) before the matching static change, 99.1% (132/2/99/0)
with it.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.validity import DEFAULT_LEVELS, check, check_many

DATA = ROOT / "tests" / "data"
DEV_SET = DATA / "gdscript3_dev.jsonl"
SOURCE = DATA / "gdscript3_dev_source.py"
PROVENANCE = ("hand-written Godot 3 answers + faulty variants for issue 14 (tests/data/gdscript3_dev_source.py), "
              "not the blind set; label = godot3-server 3.2.3 --check-only via the compile level with the "
              "reviewer's stubs")


def _source_rows():
    spec = importlib.util.spec_from_file_location("gdscript3_dev_source", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expand()


def label() -> None:
    rows = _source_rows()
    results = check_many([code for _, _, code in rows], "gdscript", "3", ("compile",), jobs=2)
    with DEV_SET.open("w", encoding="utf-8") as out:
        for (key, instruction, code), result in zip(rows, results):
            message = "; ".join(f.message for f in result.errors)
            out.write(json.dumps({"id": key, "target": "3", "instruction": instruction, "answer": code,
                                  "valid": result.valid, "compiler": message,
                                  "provenance": PROVENANCE}) + "\n")
    print(f"labelled {len(rows)} answers ({sum(r.valid for r in results)} compile) -> {DEV_SET.name}")


def report(verbose: bool) -> None:
    rows = [json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()]
    for mode in ("amend", "strict"):
        counts = dict.fromkeys(("TP", "FP", "TN", "FN"), 0)
        wrong = []
        for row in rows:
            result = check(row["answer"], "gdscript", "3", DEFAULT_LEVELS, user_refs=mode)
            predicted = result.compiles
            counts[("T" if predicted == row["valid"] else "F") + ("P" if predicted else "N")] += 1
            if predicted != row["valid"]:
                wrong.append((row, result))
        agree = (counts["TP"] + counts["TN"]) / len(rows)
        print(f"{mode:<7} {agree:6.1%}  TP/FP/TN/FN {counts['TP']}/{counts['FP']}/{counts['TN']}/{counts['FN']}"
              f"  (n={len(rows)}, compile-valid = positive)")
        if verbose and mode == "amend":
            for row, result in wrong:
                static = "; ".join(str(f) for f in result.errors) or "no error"
                print(f"  {row['id']}: compiler {'valid' if row['valid'] else row['compiler'][:150]}\n"
                      f"      static: {static[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", action="store_true", help="relabel the set with godot3-server first")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the agreement lines")
    args = parser.parse_args()
    if args.label:
        label()
    report(not args.quiet)


if __name__ == "__main__":
    main()
