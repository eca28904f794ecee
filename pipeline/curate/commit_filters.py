"""CommitPackFT's filters for commit messages, as data (OctoPack, Muennighoff et al. 2023).

A commit subject becomes an instruction only if, after `clean_subject`, every filter in FILTERS
passes. Each filter has a name, so the mining config can turn one off and the stats can say how
many commits each one removed. The subject is the instruction; the body is never used.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline.errors import ConfigError

MIN_CHARS, MAX_CHARS = 10, 1000
MIN_WORDS = 4

# Subjects must start with one of these (lower-cased); phrasal verbs are matched as phrases.
IMPERATIVE_VERBS = frozenset("""
abort accelerate access add adjust align allow amend annotate append apply archive arrange
augment automate avoid backport break build bump cache call cancel change check choose clarify
clean clear clone close collapse combine comment compress concatenate configure connect
consolidate convert copy correct create customize cut deal debug declare decouple decrease
define delete deprecate detach detect determine disable discard display divide document drop
duplicate edit embed emit enable encode encrypt enforce enhance ensure escape exclude expand
expose extend extract factor fetch fill filter finish fix flatten format generalize generate
guard handle hide highlight ignore implement import improve include increase increment indent
initialize inline insert install integrate introduce invert isolate join keep kill limit load
lock log make mark mask merge migrate modify move normalize optimize order override parse pass
patch prefer prepare prepend prevent print process propagate protect provide prune purge put
raise read rearrange rebuild recompile redefine reduce refactor reformat refresh register
reimplement reject relax release reload relocate remove rename reorder reorganize repair
replace report require rescue reset reshape resolve restore restrict restructure retry return
reuse revert revise rework rewrite round run sanitize save scale secure select send separate
serialize set show simplify skip sort speed split stabilize standardize start stop store
streamline strip structure support suppress swap switch sync synchronize tidy toggle track
transform translate trim truncate tweak unify uninstall unlock unwrap update upgrade use
validate verify wrap write
""".split())
PHRASAL_STARTS = ("clean up", "set up", "speed up", "tidy up", "deal with", "get rid of", "make sure")

# Whole subjects that say nothing about the change.
EMPTY_SUBJECTS = frozenset({
    "readme", "update", "updated", "dummy", "test", "update readme", "update readme.md",
    "updated readme", "updated readme.md", "initial commit", "first commit", "minor changes",
})

_URL = re.compile(r"https?://|www\.\w", re.I)
_ISSUE_REF = re.compile(r"(#\d+|\bgh-\d+\b|\b[A-Z][A-Z0-9]+-\d+\b|\b(fixes|closes|resolves) #?\w+)", re.I)
_MERGE = re.compile(r"^merge\b.*\b(branch|pull request|remote|tag|into|from)\b|^merged?\b.*\binto\b", re.I)
_WIP = re.compile(r"\bwip\b|\bwork in progress\b", re.I)
_BUMP = re.compile(r"\bbump(s|ed)?\b.*\bversion\b|\bversion bump\b|^(release )?v?\d+\.\d+(\.\d+)?\b", re.I)
_SIGNED_OFF = re.compile(r"signed-off-by|auto(matic)? commit|<\?xml", re.I)
_HASH_ONLY = re.compile(r"^[a-f0-9]+(-[a-f0-9]+)*$", re.I)


@dataclass(frozen=True)
class MessageFilter:
    name: str
    description: str
    rejects: Callable[[str, str], bool]     # (clean subject, changed file path) -> True to drop


def _first_words(subject: str) -> str:
    return " ".join(subject.lower().split()[:3])


def _starts_with_verb(subject: str) -> bool:
    words = subject.lower().split()
    if not words:
        return False
    return words[0].strip(",.:") in IMPERATIVE_VERBS or _first_words(subject).startswith(PHRASAL_STARTS)


def _names_the_file(subject: str, path: str) -> bool:
    # "Update player.gd": the file name carries no instruction. (CommitPackFT dropped any subject
    # containing the stem, which also drops "Fix jump when the player is in the air".)
    name = PurePosixPath(path).name
    return bool(name) and name.lower() in subject.lower()


FILTERS: tuple[MessageFilter, ...] = (
    MessageFilter("length", f"subject of {MIN_CHARS}-{MAX_CHARS} characters",
                  lambda s, p: not MIN_CHARS <= len(s) <= MAX_CHARS),
    MessageFilter("words", f"at least {MIN_WORDS} words", lambda s, p: len(s.split()) < MIN_WORDS),
    MessageFilter("imperative", "starts with an imperative verb from IMPERATIVE_VERBS",
                  lambda s, p: not _starts_with_verb(s)),
    MessageFilter("empty", "not a content-free subject like 'update readme'",
                  lambda s, p: s.lower().strip(" .") in EMPTY_SUBJECTS),
    MessageFilter("merge", "not a merge commit message", lambda s, p: bool(_MERGE.search(s))),
    MessageFilter("wip", "not work in progress", lambda s, p: bool(_WIP.search(s))),
    MessageFilter("bump", "not a version bump or release number", lambda s, p: bool(_BUMP.search(s))),
    MessageFilter("signed-off", "no sign-off line, auto commit or XML", lambda s, p: bool(_SIGNED_OFF.search(s))),
    MessageFilter("url", "no URLs", lambda s, p: bool(_URL.search(s))),
    MessageFilter("issue-ref", "no issue or ticket references (#12, GH-3, JIRA-42)",
                  lambda s, p: bool(_ISSUE_REF.search(s))),
    MessageFilter("hash", "not just a hash", lambda s, p: bool(_HASH_ONLY.match(s.strip()))),
    MessageFilter("names-file", "does not name the changed file ('Update player.gd')",
                  _names_the_file),
)
FILTER_NAMES = tuple(f.name for f in FILTERS)


def clean_subject(subject: str) -> str:
    """Drop a leading `[tag]`/`scope:` word, a trailing `[tag]` and `[skip ci]`, as CommitPackFT did."""
    words = subject.replace("[skip ci]", "").replace("[ci skip]", "").strip().split()
    if words and words[0].startswith("[") and words[0].endswith("]"):
        words = words[1:]
    if words and words[0].endswith(":"):
        words = words[1:]
    if words and words[-1].startswith("[") and words[-1].endswith("]"):
        words = words[:-1]
    return " ".join(words)


def rejection(subject: str, path: str, disabled: tuple[str, ...] | list[str] = ()) -> str | None:
    """The name of the first filter that drops this (clean) subject, or None when it is kept."""
    unknown = set(disabled) - set(FILTER_NAMES)
    if unknown:
        raise ConfigError(f"unknown commit filters {sorted(unknown)}; known: {', '.join(FILTER_NAMES)}")
    for f in FILTERS:
        if f.name not in disabled and f.rejects(subject, path):
            return f.name
    return None
