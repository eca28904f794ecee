"""Lineage: from any score back to the commits it came from, and from any repo or pair forward to
the datasets, runs, checkpoints and scores it fed.

    trace(store, "eval:3")          # eval → model → run → dataset@version → pairs → snippets → repos
    trace(store, "repo:1")          # repo → snippets → pairs → datasets → runs → checkpoints → scores
    python -m pipeline lineage eval:3 [--json]

A reference is `kind:id` with kind one of eval, judge, model, run, dataset (id or name@version),
pair, snippet, repo (id or owner/name). Every node of a trace carries its own reference, so the
Lineage tab and the CLI can re-centre on it: any link of the chain is one step away.
`cards` turns the same lineage into the hub's dataset and model cards (`python -m pipeline card`).
"""
from pipeline.lineage.trace import KINDS, Level, Lineage, Node, parse_ref, trace

__all__ = ["KINDS", "Level", "Lineage", "Node", "parse_ref", "trace"]
