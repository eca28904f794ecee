"""Duplicate detection: exact (hash of whitespace-normalised text) and near (MinHash LSH over
5-token shingles, datasketch). Both return edges between duplicate items; `duplicate_groups`
joins the edges into groups and picks the one item each group keeps.

    edges = exact_duplicate_edges(items) + NearDuplicateFinder(0.85).add_all(items).edges()
    groups = duplicate_groups(edges, keep_rank)   # {item: kept item} for every grouped item
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

import numpy as np

from pipeline.errors import ConfigError

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_SPACE_RE = re.compile(r"\s+")
K = TypeVar("K", bound=Hashable)  # what identifies an item: a pair id, an index


def exact_key(text: str) -> str:
    """Same key for texts that differ only in whitespace (indentation, trailing spaces, CRLF)."""
    return hashlib.sha1(_SPACE_RE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def exact_duplicate_edges(items: Iterable[tuple[K, str]]) -> list[tuple[K, K]]:
    first: dict[str, K] = {}
    edges = []
    for key, text in items:
        digest = exact_key(text)
        if digest in first:
            edges.append((first[digest], key))
        else:
            first[digest] = key
    return edges


def shingles(text: str, size: int = 5) -> set[str]:
    """Word/symbol 5-grams: code that differs by renaming one variable still shares most."""
    tokens = TOKEN_RE.findall(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


class NearDuplicateFinder(Generic[K]):
    """Query-then-insert over a MinHash LSH index; candidates are confirmed with the estimated
    Jaccard similarity so LSH's false positives don't become flags."""

    def __init__(self, threshold: float = 0.85, num_perm: int = 128, shingle_size: int = 5,
                 seed: int = 1):
        import xxhash
        from datasketch import MinHash, MinHashLSH

        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold, self.num_perm, self.shingle_size = threshold, num_perm, shingle_size
        # Candidates come from a slightly looser index (datasketch can't band for thresholds near 1);
        # every candidate is then checked against the real threshold.
        self._lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=num_perm)
        # xxhash instead of the default sha1: same quality for shingles, several times faster.
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)
        self._signatures: dict[K, np.ndarray] = {}
        self._edges: list[tuple[K, K, float]] = []

    def add(self, key: K, text: str) -> None:
        grams = shingles(text, self.shingle_size)
        if not grams:
            return
        minhash = self._template.copy()
        minhash.update_batch([g.encode("utf-8") for g in grams])
        mine = minhash.hashvalues
        for other in self._lsh.query(minhash):
            similarity = float(np.count_nonzero(self._signatures[other] == mine)) / self.num_perm
            if similarity >= self.threshold:
                self._edges.append((other, key, similarity))
        self._lsh.insert(key, minhash, check_duplication=False)
        self._signatures[key] = mine

    def add_all(self, items: Iterable[tuple[K, str]]) -> NearDuplicateFinder[K]:
        for key, text in items:
            self.add(key, text)
        return self

    def edges(self) -> list[tuple[K, K]]:
        return [(a, b) for a, b, _ in self._edges]


def duplicate_groups(edges: Iterable[tuple[K, K]],
                     keep_rank: Callable[[K], tuple] = lambda key: (key,)) -> dict[K, K]:
    """Union the edges into groups; map every member to the member with the lowest keep_rank."""
    parent: dict[K, K] = {}

    def find(x: K) -> K:
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    members: dict[K, list[K]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    groups: dict[K, K] = {}
    for group in members.values():
        kept = min(group, key=keep_rank)
        for x in group:
            groups[x] = kept
    return groups
