"""Syntax-validity benchmark: agreement with hand labels, parse-only baselines, throughput.

    .venv/bin/python benchmarks/validity.py

Corpora (tests/data): gdscript_validity.jsonl (166 answers, labelled before the checker was
written, then used to develop it) and gdscript_validity_holdout.jsonl (85 answers written
after the first version; its first, untuned run agreed 78/85 = 91.8%, after which its misses
were fixed — so neither corpus is unseen any more) and gdscript_validity_blind.jsonl (80 answers
written and labelled by a reviewer who never saw the checker, added after all tuning and never
tuned on: the summary figure is the agreement on this blind set).
"valid" is the positive class: TP = valid and judged valid, FP = invalid but judged valid.
Throughput: 10,000 answers made unique (so the content-hash cache never hits), cache cleared
first, one process; the default levels parse+dialect+refs+semantic. Lint and the compile
level are timed on small samples because they are opt-in.
"""
from __future__ import annotations

import json
import random
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import evals.validity as validity  # noqa: E402
from evals.validity import check, check_many  # noqa: E402
from evals.validity.treesitter import parse_errors  # noqa: E402

DATA = ROOT / "tests" / "data"
CORPORA = {"dev": "gdscript_validity.jsonl", "holdout": "gdscript_validity_holdout.jsonl",
           "blind": "gdscript_validity_blind.jsonl"}
THROUGHPUT_N = 10_000
DEFAULT_LEVELS = ("parse", "dialect", "refs", "semantic")


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def tree_sitter_only(row: dict) -> bool:
    return not parse_errors(row["code"], "gdscript")


def gdtoolkit_only(row: dict) -> bool:
    from gdtoolkit.parser import parser
    from lark.exceptions import LarkError

    try:
        parser.parse(row["code"])
    except LarkError:
        return False
    return True


def full_checker(row: dict) -> bool:
    return check(row["code"], "gdscript", row["target"]).valid


def confusion(rows: list[dict], judge) -> dict[str, int]:
    counts = dict.fromkeys(("TP", "FP", "TN", "FN"), 0)
    for row in rows:
        predicted = judge(row)
        key = ("T" if predicted == row["valid"] else "F") + ("P" if predicted else "N")
        counts[key] += 1
    return counts


def agreement(counts: dict[str, int]) -> float:
    total = sum(counts.values())
    return (counts["TP"] + counts["TN"]) / total if total else 0.0


def varied_answers(rows: list[dict], n: int) -> list[tuple[str, str]]:
    rng = random.Random(1234)
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        code = f"# answer {i}\n" + row["code"] + f"\nvar _bench_{i} := {rng.randint(0, 10**9)}\n"
        out.append((code, row["target"]))
    return out


def time_levels(answers, levels) -> float:
    validity._CACHE.clear()
    start = time.perf_counter()
    for code, target in answers:
        check(code, "gdscript", target, levels)
    return time.perf_counter() - start


def main() -> None:
    corpora = {name: load(file) for name, file in CORPORA.items()}
    rows = corpora["dev"] + corpora["holdout"] + corpora["blind"]
    judges = {"tree-sitter only": tree_sitter_only, "gdtoolkit only": gdtoolkit_only,
              "full checker": full_checker}

    print(f"GDScript validity vs hand labels: {len(rows)} answers ({len(corpora['dev'])} dev + "
          f"{len(corpora['holdout'])} holdout, both tuned on; {len(corpora['blind'])} blind, never "
          f"tuned on), 'valid' = positive")
    print(f"\n{'method':<18}{'agree':>8}{'TP':>6}{'FP':>6}{'TN':>6}{'FN':>6}   dev      holdout  blind")
    for name, judge in judges.items():
        counts = confusion(rows, judge)
        per = {c: agreement(confusion(corpora[c], judge)) for c in corpora}
        print(f"{name:<18}{agreement(counts):>8.1%}{counts['TP']:>6}{counts['FP']:>6}{counts['TN']:>6}"
              f"{counts['FN']:>6}   {per['dev']:<8.1%} {per['holdout']:<8.1%} {per['blind']:.1%}")
    print("note: holdout's first run, before any tuning on it, was 78/85 = 91.8% (full checker)")
    blind = confusion(corpora["blind"], full_checker)
    print(f"blind set, full checker: TP {blind['TP']} FP {blind['FP']} TN {blind['TN']} FN {blind['FN']}")
    for row in corpora["blind"]:
        if full_checker(row) != row["valid"]:
            print(f"  miss {row['id']} ({row['category']}): labelled {'valid' if row['valid'] else 'invalid'}"
                  f" — {row.get('note', '')[:90]}")

    by_category = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    print(f"\n{'category':<16}{'n':>5}{'tree-sitter':>13}{'gdtoolkit':>11}{'full':>8}")
    for category, members in sorted(by_category.items()):
        cells = [agreement(confusion(members, judge)) for judge in judges.values()]
        print(f"{category:<16}{len(members):>5}{cells[0]:>13.1%}{cells[1]:>11.1%}{cells[2]:>8.1%}")

    answers = varied_answers(rows, THROUGHPUT_N)
    print(f"\nthroughput, {THROUGHPUT_N} unique answers, cold cache, 1 process")
    print(f"{'levels':<40}{'answers':>8}{'seconds':>9}{'answers/s':>11}")
    seconds = time_levels(answers, DEFAULT_LEVELS)
    print(f"{','.join(DEFAULT_LEVELS):<40}{len(answers):>8}{seconds:>9.2f}{len(answers) / seconds:>11.0f}")
    parse_seconds = time_levels(answers, ("parse",))
    print(f"{'parse':<40}{len(answers):>8}{parse_seconds:>9.2f}{len(answers) / parse_seconds:>11.0f}")
    sample = answers[:300]
    lint_seconds = time_levels(sample, DEFAULT_LEVELS + ("lint",))
    print(f"{'+lint (sample)':<40}{len(sample):>8}{lint_seconds:>9.2f}{len(sample) / lint_seconds:>11.0f}")
    if shutil.which("node"):
        js = [f"function f{i}(x) {{ return x + {i}; }}\n" if i % 4 else f"function f{i}(x {{\n"
              for i in range(100)]
        start = time.perf_counter()
        check_many(js, "javascript", levels=("parse", "compile"), jobs=2)
        js_seconds = time.perf_counter() - start
        print(f"{'javascript parse,compile (node, 2 jobs)':<40}{len(js):>8}{js_seconds:>9.2f}"
              f"{len(js) / js_seconds:>11.0f}")
    if not shutil.which("godot") and not shutil.which("godot4"):
        print("GDScript compile level: no Godot binary installed, not timed")
    budget = "within" if seconds <= 30 else "OVER"
    print(f"10k answers at default levels: {seconds:.1f} s ({budget} the 30 s budget)")
    print(f"\nagreement {agreement(blind) * 100:.1f}%")


if __name__ == "__main__":
    main()
