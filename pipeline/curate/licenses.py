"""A repository's license as an SPDX id, read from its license files, and the curation filter.

    detect_license(Path("clones/owner__name"))        # "MIT", "Apache-2.0 OR MIT", or None
    license_allowed("GPL-3.0", PERMISSIVE_LICENSES)    # False

Detection uses `identify` (pre-commit's file identifier): it normalizes the text, strips the
copyright line and matches it against the choosealicense.com texts it ships, exactly or within 5 %
edit distance, offline. Files looked at: LICENSE, LICENCE, COPYING, UNLICENSE at the top of the
repo, with any suffix (LICENSE.md, LICENSE-MIT, COPYING.txt). Several different licenses (the
Rust convention LICENSE-MIT + LICENSE-APACHE) make an `A OR B` expression: the user may pick
either. What is not done: per-file SPDX headers and licenses of vendored code (skipped anyway).
"""
from __future__ import annotations

import re
from pathlib import Path

# The same permissive set GitHub search offers (pipeline.curate.github), as SPDX ids.
PERMISSIVE_LICENSES = ("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense", "0BSD",
                       "Zlib", "BSL-1.0", "CC0-1.0")
UNKNOWN = "unknown"
_LICENSE_FILE = re.compile(r"^(?:un)?(?:licen[cs]e|copying)(?:[.\-_][\w.\-]*)?$", re.I)
_MAX_LICENSE_BYTES = 200_000


def license_files(root: Path) -> list[Path]:
    try:
        entries = sorted(Path(root).iterdir())
    except OSError:
        return []
    return [p for p in entries if _LICENSE_FILE.match(p.name) and p.is_file() and not p.is_symlink()
            and p.stat().st_size <= _MAX_LICENSE_BYTES]


def detect_license(root: Path) -> str | None:
    """The SPDX expression of the repo's license files, or None when none is recognised."""
    from identify.identify import license_id

    found: list[str] = []
    for path in license_files(root):
        try:
            spdx = license_id(str(path))
        except (UnicodeDecodeError, OSError):
            continue
        if spdx and spdx not in found:
            found.append(spdx)
    return " OR ".join(sorted(found)) if found else None


def normalize(spdx: str | None) -> str:
    return (spdx or "").strip() or UNKNOWN


def license_allowed(spdx: str | None, allowed, allow_unknown: bool = False) -> bool:
    """Whether an SPDX expression is within `allowed` (case-insensitive): any side of an OR, every
    side of an AND. Unknown / NOASSERTION / other pass only with allow_unknown."""
    expr = normalize(spdx)
    allowed_low = {a.lower() for a in allowed}
    if expr.lower() in (UNKNOWN, "noassertion", "other", "none"):
        return allow_unknown
    return any(all(part.strip().strip("()").lower() in allowed_low for part in alt.split(" AND "))
               for alt in expr.split(" OR "))
