"""The held-out test split a frozen dataset carves for itself (issue 24).

    settings = SplitSettings(test_fraction=0.15, group_by="auto")
    labels, info = carve_split(rows, group_keys, settings)   # "test" | "train" | None per row

Why grouped: functions of one file (or one repository) share names, helpers and style, so a test
item whose siblings sit in train measures recall more than skill. The split takes whole groups —
repositories or files — into test. `auto` groups by repository when there are at least
MIN_REPOS_FOR_REPO_SPLIT of them (so a test set of whole repos is still a fair sample), else by
file, else by pair.

Why near-duplicates leave train: copied and lightly edited code crosses file and repo boundaries.
Every train pair whose code is a near-duplicate of a test item's code (the clean stage's own
MinHash index and threshold, plus exact matches up to whitespace) is dropped from the frozen
version and counted in `info`. Decontamination against eval suites is the clean stage's flag,
which freezing already honours for both splits (flagged pairs are left out unless asked for).

A dataset smaller than MIN_PAIRS_FOR_TEST is frozen without a test split (a handful of items
cannot show a difference); `info["test"]` is 0 and `info["note"]` says why.
"""
from __future__ import annotations

import random
from collections.abc import Hashable
from dataclasses import asdict, dataclass, field

from pipeline.errors import ConfigError

GROUPINGS = ("auto", "repo", "file", "pair")
MIN_PAIRS_FOR_TEST = 20
MIN_REPOS_FOR_REPO_SPLIT = 5


@dataclass
class SplitSettings:
    test_fraction: float = field(default=0.15, metadata={
        "help": "share of the pairs held out as the test split (0 = no test split)", "min": 0.0, "max": 0.5})
    group_by: str = field(default="auto", metadata={
        "help": "what the test split takes whole: repo, file, pair, or auto (repo when there are "
                f"at least {MIN_REPOS_FOR_REPO_SPLIT} repos, else file)", "choices": GROUPINGS})
    split_seed: int = field(default=0, metadata={"help": "seed for choosing the test groups"})
    near_dup_threshold: float = field(default=0.85, metadata={
        "help": "train pairs at least this similar (MinHash Jaccard of the code) to a test item are dropped",
        "min": 0.05, "max": 1.0})

    def __post_init__(self):
        if self.group_by not in GROUPINGS:
            raise ConfigError(f"group_by must be one of {', '.join(GROUPINGS)}, got {self.group_by!r}")
        if not 0 <= self.test_fraction <= 0.5:
            raise ConfigError(f"test_fraction must be between 0 and 0.5, got {self.test_fraction}")
        if not 0 < self.near_dup_threshold <= 1:
            raise ConfigError(f"near_dup_threshold must be in (0, 1], got {self.near_dup_threshold}")

    def to_dict(self) -> dict:
        return asdict(self)


def group_key(pair: dict, group_by: str) -> Hashable:
    """The group a pair belongs to; a pair without a repo (imported, chat) is its own group."""
    if group_by == "repo" and pair.get("repo_id") is not None:
        return ("repo", pair["repo_id"])
    if group_by in ("repo", "file") and pair.get("path"):
        return ("file", pair.get("repo_id"), pair["path"])
    return ("pair", pair["pair_id"] if "pair_id" in pair else pair["id"])


def resolve_grouping(sources: list[dict], group_by: str) -> str:
    if group_by != "auto":
        return group_by
    repos = {s.get("repo_id") for s in sources if s.get("repo_id") is not None}
    if len(repos) >= MIN_REPOS_FOR_REPO_SPLIT:
        return "repo"
    files = {(s.get("repo_id"), s.get("path")) for s in sources if s.get("path")}
    return "file" if len(files) >= 2 else "pair"


def carve_split(rows: list[dict], sources: dict[int, dict], settings: SplitSettings) -> tuple[list, dict]:
    """(label per row: "test", "train" or None = dropped as a near-duplicate of a test item, info).

    `rows` are the frozen rows (pair_id, output, …); `sources` maps pair_id to {repo_id, path}."""
    n = len(rows)
    info = dict(settings.to_dict(), grouping=None, test=0, train=n, dropped_near_duplicates=0,
                test_groups=0, groups=0)
    if settings.test_fraction <= 0:
        return ["train"] * n, dict(info, note="no test split asked for")
    if n < MIN_PAIRS_FOR_TEST:
        return ["train"] * n, dict(info, note=f"no test split: fewer than {MIN_PAIRS_FOR_TEST} pairs")
    described = [dict(sources.get(r["pair_id"], {}), pair_id=r["pair_id"]) for r in rows]
    grouping = resolve_grouping(described, settings.group_by)
    keys = [group_key(s, grouping) for s in described]
    members: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    order = sorted(members, key=repr)
    random.Random(settings.split_seed).shuffle(order)
    target = max(1, round(n * settings.test_fraction))
    test: set[int] = set()
    taken = 0
    for key in order[:-1]:  # the last group always stays in train
        if len(test) >= target:
            break
        if len(test) + len(members[key]) > 2 * target and test:
            continue  # one huge group would swallow the split; try a smaller one
        test.update(members[key])
        taken += 1
    labels: list[str | None] = ["test" if i in test else "train" for i in range(n)]
    dropped = near_duplicates_of_test(rows, labels, settings.near_dup_threshold)
    for i in dropped:
        labels[i] = None
    info.update(grouping=grouping, test=len(test), train=n - len(test) - len(dropped),
                dropped_near_duplicates=len(dropped), test_groups=taken, groups=len(members),
                dropped_pair_ids=sorted(rows[i]["pair_id"] for i in dropped))
    if info["train"] == 0:
        raise ConfigError("every train pair is a near-duplicate of a test item; lower test_fraction "
                         "or raise near_dup_threshold")
    return labels, info


def near_duplicates_of_test(rows: list[dict], labels: list, threshold: float) -> set[int]:
    """Indexes of train rows whose code is a near- or exact duplicate of a test row's code, found
    with the clean stage's index (pipeline.clean.dedup)."""
    from pipeline.clean.dedup import NearDuplicateFinder, exact_key

    finder: NearDuplicateFinder[int] = NearDuplicateFinder(threshold)
    test_idx = [i for i, label in enumerate(labels) if label == "test"]
    for i in test_idx:  # test first: an edge (test, train) then names the train row second
        finder.add(i, rows[i]["output"] or "")
    for i, label in enumerate(labels):
        if label == "train":
            finder.add(i, rows[i]["output"] or "")
    test_set = set(test_idx)
    dropped = {b for a, b in finder.edges() if a in test_set and b not in test_set}
    dropped |= {a for a, b in finder.edges() if b in test_set and a not in test_set}
    test_keys = {exact_key(rows[i]["output"] or "") for i in test_idx}
    dropped |= {i for i, label in enumerate(labels)
                if label == "train" and exact_key(rows[i]["output"] or "") in test_keys}
    return dropped


def describe_split(info: dict | None) -> str:
    """One line for the CLI, the Pairs tab and lineage: what was held out and how."""
    info = info or {}
    if not info:
        return "no test split (frozen before test splits existed)"
    if not info.get("test"):
        return info.get("note") or "no test split"
    line = (f"test split: {info['test']} pairs in {info.get('test_groups', '?')} of {info.get('groups', '?')} "
            f"{info.get('grouping')} groups held out; train {info.get('train')} pairs")
    if info.get("dropped_near_duplicates"):
        line += (f"; {info['dropped_near_duplicates']} train pairs dropped as near-duplicates of test items "
                 f"(similarity >= {info.get('near_dup_threshold')})")
    return line
