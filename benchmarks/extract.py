"""Extraction speed and recall on real code: the studio's own virtualenv site-packages.

    python benchmarks/extract.py [--files 1200] [--site-packages PATH]

Corpus: a fixed subset of the .py files under site-packages (every k-th file of the sorted list,
files under 256 KB that Python 3.11 itself can parse), so two runs read the same files.

Baseline: a plain line scan, every line matching `^\\s*(async\\s+)?def\\s+NAME`.
Recall, precisely: of the `def` lines the line scan finds, the share the extractor finds (a
definition counts as found at the line holding its name). A `def` line inside a string or a
docstring (doctest examples, code templates) is a line-scan hit but not a function: Python's `ast`
decides, and such lines are counted as the baseline's false positives, not as extractor misses.
"recall" is for definitions the extractor would keep (no syntax error inside); "found" counts
every definition tree-sitter located. Speed: definitions per second of wall time on one core
(the process is pinned to one CPU), parsing plus snippet building (dedent, docstring cut, hash,
token estimate), files already in memory.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.curate.extract import content_hash, estimate_tokens, parse_definitions

DEF_LINE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+\w", re.M)
DEFAULT_SITE = Path(__file__).resolve().parent.parent / ".venv/lib/python3.11/site-packages"
MAX_FILE_BYTES = 256 * 1024


def corpus(site: Path, n_files: int) -> tuple[list[tuple[str, str]], int]:
    """(path, text) of a deterministic subset; and how many candidates Python could not parse."""
    paths = sorted(p for p in site.rglob("*.py") if p.is_file() and not p.is_symlink()
                   and p.stat().st_size <= MAX_FILE_BYTES)
    step = max(1, len(paths) // n_files)
    files, unparsable = [], 0
    for p in paths[::step][:n_files]:
        try:
            text = p.read_text("utf-8")
            ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            unparsable += 1
            continue
        files.append((str(p.relative_to(site)), text))
    return files, unparsable


def ast_def_lines(text: str) -> set[int]:
    return {n.lineno for n in ast.walk(ast.parse(text))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def line_scan(text: str) -> set[int]:
    return {text.count("\n", 0, m.start()) + 1 for m in DEF_LINE.finditer(text)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1200, help="files in the corpus subset")
    parser.add_argument("--site-packages", type=Path, default=DEFAULT_SITE, help="folder of .py files")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    files, unparsable = corpus(args.site_packages, args.files)
    total_bytes = sum(len(t.encode()) for _, t in files)
    total_lines = sum(t.count("\n") + 1 for _, t in files)
    parse_definitions("def warm():\n    pass\n", "python")  # grammar load is not per-file work

    t0 = time.perf_counter()
    scans = [line_scan(text) for _, text in files]
    scan_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = []
    for _, text in files:
        defs = [d for d in parse_definitions(text, "python").definitions]
        for d in defs:
            content_hash(d.code)
            estimate_tokens(d.code)
        found.append(defs)
    extract_s = time.perf_counter() - t0

    truth = [ast_def_lines(text) for _, text in files]
    n_found = sum(len(f) for f in found)
    scan_hits = sum(len(s) for s in scans)
    base_true = base_false = hit_all = hit_kept = extra = 0
    misses = []
    for (path, _), scan, real, defs in zip(files, scans, truth, found):
        at_all = {d.name_line for d in defs}
        at_kept = {d.name_line for d in defs if not d.error}
        confirmed = scan & real
        base_true += len(confirmed)
        base_false += len(scan - real)
        hit_all += len(confirmed & at_all)
        hit_kept += len(confirmed & at_kept)
        extra += len(at_all - real)
        misses += [f"{path}:{line}" for line in sorted(confirmed - at_kept)]
    recall_found = 100.0 * hit_all / base_true
    recall = 100.0 * hit_kept / base_true
    ast_total = sum(len(t) for t in truth)

    print(f"corpus: {len(files)} files, {total_lines:,} lines, {total_bytes / 2**20:.1f} MB from "
          f"{args.site_packages} ({unparsable} files Python cannot parse left out)")
    print()
    print(f"{'method':<34} {'defs':>8} {'seconds':>9} {'defs/s':>10} {'MB/s':>7}")
    print(f"{'line scan (baseline)':<34} {scan_hits:>8,} {scan_s:>9.2f} {scan_hits / scan_s:>10,.0f} "
          f"{total_bytes / 2**20 / scan_s:>7.1f}")
    print(f"{'tree-sitter extract (1 core)':<34} {n_found:>8,} {extract_s:>9.2f} {n_found / extract_s:>10,.0f} "
          f"{total_bytes / 2**20 / extract_s:>7.1f}")
    print()
    print(f"{'recall figure':<58} {'value':>8}")
    print(f"{'line-scan def lines that are real definitions (ast)':<58} {base_true:>8,}")
    print(f"{'line-scan def lines inside strings/docstrings (excluded)':<58} {base_false:>8,}")
    print(f"{'found by the extractor (any)':<58} {recall_found:>7.2f}%")
    print(f"{'found and extractable (no syntax error)':<58} {recall:>7.2f}%")
    print(f"{'extractor definitions not in ast (false positives)':<58} {extra:>8,}")
    print(f"{'ast definitions in corpus / extractor definitions':<58} {ast_total:>8,} / {n_found:,}")
    if misses:
        print("first misses: " + ", ".join(misses[:5]))
    print(f"speed {n_found / extract_s:,.0f} functions/s on one core")
    print(f"recall {recall:.1f}%")


if __name__ == "__main__":
    main()
