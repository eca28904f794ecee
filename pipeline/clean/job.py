"""Cleaning: exact and near-duplicate grouping, decontamination against eval suites, and
length/quality filters. Everything *flags* pairs (dup_group, contaminated_by, flags); nothing
is deleted, and `unflag` restores the pairs exactly.

    python -m pipeline pairs clean --near-threshold 0.8 --suites humaneval my_suite.jsonl --wait
    python -m pipeline pairs clean --unflag all

As a job ("clean"), a run reads the pairs in scope once in id-ordered batches, then replaces the
previous flags of the steps it ran in a single transaction, so a cancelled or resumed run leaves
either the old flags or the new ones, never a mix; running it twice gives the same flags.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from pipeline.clean.decontam import (
    ProbeMatcher,
    load_suites,
    ngram_probes,
    prepare_ngram_batch,
    prepare_substring_batch,
    substring_probes,
)
from pipeline.clean.dedup import NearDuplicateFinder, duplicate_groups, exact_key
from pipeline.clean.quality import QualityThresholds, quality_flags
from pipeline.config import JobConfig, config_from_dict
from pipeline.errors import ConfigError
from pipeline.pairs.conversations import clean_fields
from pipeline.store import Store
from pipeline.store.pairs import PairFilter

DECONTAM_MODES = ("substring", "ngram", "both")


@dataclass
class CleanConfig(QualityThresholds, JobConfig):
    statuses: list[str] = field(default_factory=lambda: ["draft", "approved"], metadata={"help": "clean pairs with these statuses"})
    language: list[str] = field(default_factory=list, metadata={"help": "only pairs in these languages (default: all)"})
    origin: list[str] = field(default_factory=list, metadata={"help": "only pairs of these origins (default: all)"})
    exact_dedup: bool = field(default=True, metadata={"help": "group pairs whose text is identical up to whitespace"})
    near_dedup: bool = field(default=True, metadata={"help": "group near-duplicates with MinHash LSH"})
    near_threshold: float = field(default=0.85, metadata={"help": "Jaccard similarity of shingle sets at which two pairs are near-duplicates"})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations (more = more exact, slower)"})
    shingle_size: int = field(default=5, metadata={"help": "tokens per shingle for near-dedup"})
    dedup_on: str = field(default="output", metadata={"help": "text that decides duplicates: output (the code) or pair (instruction + input + output)"})
    decontam: bool = field(default=True, metadata={"help": "flag pairs that contain eval items"})
    decontam_mode: str = field(default="substring", metadata={"help": "substring (GPT-4 report: 3 random 50-char substrings per item), ngram, or both"})
    suites: list[str] = field(default_factory=lambda: ["humaneval"], metadata={"help": "eval suites: humaneval, names of imported suites, or JSONL paths"})
    probes_per_item: int = field(default=3, metadata={"help": "random substrings drawn per eval item (substring mode)"})
    probe_chars: int = field(default=50, metadata={"help": "length of each substring, after removing spaces and symbols"})
    min_probe_chars: int = field(default=20, metadata={"help": "skip eval items shorter than this once normalised (they would match anything)"})
    ngram_size: int = field(default=13, metadata={"help": "words per n-gram (ngram mode)"})
    ngram_min_hits: int = field(default=1, metadata={"help": "distinct n-grams of one eval item a pair must share to be flagged"})
    seed: int = field(default=1234, metadata={"help": "seed for choosing the substrings (same seed, same flags)"})
    filters: bool = field(default=True, metadata={"help": "apply the length/quality filters"})

    def __post_init__(self):
        if self.dedup_on not in ("output", "pair"):
            raise ConfigError(f"dedup_on must be output or pair, got {self.dedup_on!r}")
        if self.decontam_mode not in DECONTAM_MODES:
            raise ConfigError(f"decontam_mode must be one of {', '.join(DECONTAM_MODES)}, got {self.decontam_mode!r}")
        if not 0 < self.near_threshold <= 1:
            raise ConfigError(f"near_threshold must be in (0, 1], got {self.near_threshold}")
        if min(self.num_perm, self.shingle_size, self.probes_per_item, self.probe_chars, self.ngram_size,
               self.ngram_min_hits) < 1:
            raise ConfigError("num_perm, shingle_size, probes_per_item, probe_chars, ngram_size and "
                             "ngram_min_hits must be at least 1")

    def scope(self) -> PairFilter:
        return PairFilter(status=self.statuses, language=self.language, origin=self.origin)


def _no_progress(done: int, total: int | None = None, message: str | None = None, **_) -> None:
    pass


def build_matchers(cfg: CleanConfig, store: Store | None = None) -> tuple[list, list[str]]:
    """(list of (prepare_batch, matcher), suite problems) for the configured mode."""
    load = load_suites(cfg.suites, store)
    matchers = []
    if cfg.decontam_mode in ("substring", "both"):
        probes = substring_probes(load.items, cfg.probes_per_item, cfg.probe_chars, cfg.seed, cfg.min_probe_chars)
        matchers.append((prepare_substring_batch, ProbeMatcher(probes)))
    if cfg.decontam_mode in ("ngram", "both"):
        matchers.append((prepare_ngram_batch, ProbeMatcher(ngram_probes(load.items, cfg.ngram_size), cfg.ngram_min_hits)))
    return matchers, load.problems


def run_clean(store: Store, cfg: CleanConfig, progress: Callable = _no_progress,
              log: Callable[[str], None] = print) -> dict:
    started = time.monotonic()
    scope = cfg.scope()
    total = store.count_pairs(scope)
    progress(0, total, f"cleaning {total} pairs")
    matchers, problems = build_matchers(cfg, store) if cfg.decontam else ([], [])
    for problem in problems:
        log(f"suite: {problem}")
    near: NearDuplicateFinder[int] | None = (NearDuplicateFinder(cfg.near_threshold, cfg.num_perm, cfg.shingle_size, cfg.seed)
                                              if cfg.near_dedup else None)
    first_by_key: dict[str, int] = {}
    exact_edges: list[tuple[int, int]] = []
    rank: dict[int, tuple] = {}
    contaminated: dict[int, str] = {}
    flagged: dict[int, list[str]] = {}
    done = 0
    for batch in store.iter_pair_texts(scope):
        # A conversation is cleaned on all its turns (users' and assistant's), not just the mirrored ends.
        rows = [clean_fields(p) for p in batch]
        batch_hits = [set[str]() for _ in batch]
        for prepare, matcher in matchers:
            for k, hits in enumerate(matcher.match_batch(prepare(rows), len(rows))):
                batch_hits[k].update(hits)
        for p, fields, hits in zip(batch, rows, batch_hits):
            dedup_text = fields[2] if cfg.dedup_on == "output" else "\n".join(fields)
            # Keep the pair a person approved or edited; otherwise the oldest.
            rank[p["id"]] = (p["status"] != "approved", not p["human_edits"], p["id"])
            if dedup_text.strip():
                if cfg.exact_dedup:
                    key = exact_key(dedup_text)
                    if key in first_by_key:
                        exact_edges.append((first_by_key[key], p["id"]))
                    else:
                        first_by_key[key] = p["id"]
                if near is not None:
                    near.add(p["id"], dedup_text)
            if hits:
                contaminated[p["id"]] = ",".join(sorted(hits))
            if cfg.filters:
                flags = quality_flags(*fields, cfg)
                if flags:
                    flagged[p["id"]] = flags
        done += len(batch)
        progress(done, total, f"scanned {done}/{total}")
    edges = exact_edges + (near.edges() if near else [])
    groups = duplicate_groups(edges, rank.__getitem__)
    store.replace_flags(scope, dup_groups=groups if cfg.exact_dedup or cfg.near_dedup else None,
                        contaminated=contaminated if cfg.decontam else None,
                        filtered=flagged if cfg.filters else None)
    kept = set(groups.values())
    by_item = Counter(item for hits in contaminated.values() for item in hits.split(","))
    summary = {
        "scanned": done,
        "duplicate_groups": len(kept),
        "duplicates": len(groups) - len(kept),
        "exact_pairs": len(exact_edges),
        "near_pairs": len(edges) - len(exact_edges),
        "contaminated": len(contaminated),
        "top_eval_items": dict(by_item.most_common(10)),
        "filtered": len(flagged),
        "filter_flags": dict(Counter(f for fl in flagged.values() for f in fl)),
        "suite_problems": problems[:50],
        "seconds": round(time.monotonic() - started, 2),
        "config": asdict(cfg),
    }
    log(f"cleaned {done} pairs: {summary['duplicates']} duplicates in {summary['duplicate_groups']} groups, "
        f"{summary['contaminated']} contaminated, {summary['filtered']} filtered")
    progress(done, total, "done", force=True)
    return summary


def unflag(store: Store, kind: str = "all", filter: PairFilter | dict | None = None) -> int:
    """Remove cleaning flags ('duplicate', 'contaminated', 'filtered' or 'all') from pairs."""
    return store.clear_flags(kind, filter)


def clean_job(ctx) -> dict:
    """Job kind "clean": params are a CleanConfig as a dict."""
    cfg = config_from_dict(CleanConfig, ctx.params)
    if ctx.resumed:
        ctx.log("resumed: cleaning again from the start (flags are replaced in one transaction)")
    return run_clean(ctx.store, cfg, progress=ctx.progress, log=ctx.log)
