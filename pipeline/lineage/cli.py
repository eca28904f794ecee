"""`python -m pipeline lineage REF`: the same chain the Lineage tab shows."""
from __future__ import annotations

import json

from pipeline.store import open_store


def register(sub) -> None:
    p = sub.add_parser("lineage", help="trace a score back to its commits, or a repo/pair forward to its scores")
    p.add_argument("ref", help="kind:id with kind one of eval, judge, model, run, dataset (id or name@version), "
                              "pair, snippet, repo (id or owner/name), e.g. eval:3")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    p.set_defaults(func=cmd_lineage)


def cmd_lineage(args) -> int:
    from pipeline.lineage.trace import render, trace

    lineage = trace(open_store(), args.ref)
    print(json.dumps(lineage.to_dict(), indent=2) if args.json else render(lineage))
    return 0
