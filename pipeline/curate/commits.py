"""Commit mining, OctoPack's CommitPackFT recipe: a commit's subject is the instruction, the code
before is the input and the code after is the output.

    pairs, stats = mine_commits(Path("clones/owner__name"), max_commits=500)

Kept: non-merge commits that change exactly one file, a code file (a language of
languages.py) that existed before (modified, not added or deleted), whose subject passes every
filter of commit_filters.py, whose old and new versions differ, and whose old+new size is within
the token bounds. With granularity "function" the pair is the one function the commit changed
(commits touching several functions, or none, are dropped) instead of the whole file.
"""
from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.curate import commit_filters
from pipeline.curate.extract import estimate_tokens, normalize_source, parse_definitions
from pipeline.curate.fetch import FetchError, _git_env
from pipeline.curate.languages import language_for_path
from pipeline.errors import ConfigError

DEFAULT_MAX_COMMITS = 500
DEFAULT_MIN_TOKENS = 50
DEFAULT_MAX_TOKENS = 2048     # CommitPackFT used 50-768 StarCoder tokens for old+new
MAX_OLD_CHARS = 50_000        # CommitPackFT dropped files over 50k characters
GRANULARITIES = ("file", "function")


def iter_commits(repo: Path, max_commits: int) -> Iterator[dict]:
    """Newest first: {sha, parents, subject, changes: [(status, path)]} for non-merge commits."""
    fmt = "%x1e%H%x1f%P%x1f%B"
    proc = subprocess.run(
        ["git", "log", "--no-merges", "--no-renames", "-z", "--name-status", f"--format={fmt}",
         f"--max-count={max_commits}", "HEAD"],
        cwd=repo, capture_output=True, env=_git_env(), stdin=subprocess.DEVNULL, timeout=300)
    if proc.returncode != 0:
        raise FetchError(f"git log failed in {repo}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    for record in proc.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        header, _, rest = record.partition("\x00")
        sha, parents, message = (header.split("\x1f", 2) + ["", ""])[:3]
        fields = [f.strip("\n") for f in rest.split("\x00")]
        fields = [f for f in fields if f]
        changes = list(zip(fields[0::2], fields[1::2]))
        yield {"sha": sha, "parents": parents.split(), "subject": message.strip().split("\n")[0],
               "changes": changes}


class _BlobReader:
    """One `git cat-file --batch` process answering `rev:path` lookups (None when absent)."""

    def __init__(self, repo: Path):
        self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env())
        assert self.proc.stdin is not None and self.proc.stdout is not None  # opened with PIPE
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout

    def read(self, rev: str, path: str) -> bytes | None:
        self.stdin.write(f"{rev}:{path}\n".encode())
        self.stdin.flush()
        header = self.stdout.readline().decode()
        if header.endswith("missing\n") or " blob " not in header:
            if " " in header and not header.endswith("missing\n"):
                self.stdout.read(int(header.split()[-1]) + 1)
            return None
        size = int(header.split()[-1])
        data = self.stdout.read(size)
        self.stdout.read(1)
        return data

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=10)


def mine_commits(repo: Path, *, max_commits: int = DEFAULT_MAX_COMMITS, granularity: str = "file",
                 min_tokens: int = DEFAULT_MIN_TOKENS, max_tokens: int = DEFAULT_MAX_TOKENS,
                 languages: list[str] | None = None, disabled_filters: list[str] | tuple = (),
                 progress: Callable[[int, int, str], None] | None = None) -> tuple[list[dict], Counter]:
    """Pair rows for the store and a Counter of why commits were dropped ('kept' counts pairs)."""
    if granularity not in GRANULARITIES:
        raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
    commit_filters.rejection("", "", disabled_filters)  # unknown filter names fail before any work
    commits = list(iter_commits(repo, max_commits))
    stats: Counter = Counter()
    pairs = []
    reader = _BlobReader(repo)
    try:
        for i, c in enumerate(commits):
            if progress:
                progress(i, len(commits), c["sha"][:10])
            reason, pair = _consider(c, reader, granularity, min_tokens, max_tokens, languages,
                                     disabled_filters)
            stats[reason or "kept"] += 1
            if pair:
                pairs.append(pair)
    finally:
        reader.close()
    stats["commits"] = len(commits)
    return pairs, stats


def _consider(c: dict, reader: _BlobReader, granularity: str, min_tokens: int, max_tokens: int,
              languages, disabled) -> tuple[str | None, dict | None]:
    if len(c["parents"]) != 1:
        return "no parent (first or shallow-boundary commit)", None
    if len(c["changes"]) != 1:
        return "changes more than one file" if c["changes"] else "changes no file", None
    status, path = c["changes"][0]
    if status != "M":
        return "file added or deleted", None
    spec = language_for_path(path)
    if spec is None or (languages and spec.name not in languages):
        return "not a code file", None
    subject = commit_filters.clean_subject(c["subject"])
    failed = commit_filters.rejection(subject, path, disabled)
    if failed:
        return f"message: {failed}", None
    old_raw, new_raw = reader.read(c["parents"][0], path), reader.read(c["sha"], path)
    if old_raw is None or new_raw is None:
        return "file missing from the clone", None
    try:
        old, new = normalize_source(old_raw.decode("utf-8")), normalize_source(new_raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8", None
    if len(old) > MAX_OLD_CHARS:
        return "old file too large", None
    if not new.strip() or old == new:
        return "no change in content", None
    if granularity == "function":
        old, new, reason = _changed_function(old, new, spec.name)
        if reason:
            return reason, None
    tokens = estimate_tokens(old) + estimate_tokens(new)
    if not min_tokens <= tokens <= max_tokens:
        return "outside token bounds", None
    return None, {"instruction": subject, "input": old, "output": new, "commit_sha": c["sha"],
                  "path": path, "language": spec.name}


def _changed_function(old: str, new: str, language: str) -> tuple[str, str, str | None]:
    """The single function whose code the commit changed, before and after."""
    before = {d.qualname: d.code for d in parse_definitions(old, language).definitions if not d.error}
    after = {d.qualname: d.code for d in parse_definitions(new, language).definitions if not d.error}
    changed = [q for q in after if q in before and before[q] != after[q]]
    added = [q for q in after if q not in before]
    # an outer function contains its nested ones: count only the innermost changed definitions
    innermost = [q for q in changed if not any(o != q and o.startswith(q + ".") for o in changed)]
    if len(innermost) != 1 or added:
        return "", "", ("changes no single function" if not innermost or added
                        else "changes more than one function")
    q = innermost[0]
    return before[q], after[q], None
