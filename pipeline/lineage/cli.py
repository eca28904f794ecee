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

    c = sub.add_parser("card", help="preview the hub card a dataset or model push writes (from lineage)")
    c.add_argument("kind", choices=["dataset", "model"], help="a frozen dataset or a registered model")
    c.add_argument("ref", help="dataset name, name@version or id; or model name")
    c.add_argument("--out", help="write the card to this file instead of printing it")
    c.set_defaults(func=cmd_card)


def cmd_lineage(args) -> int:
    from pipeline.lineage.trace import render, trace

    lineage = trace(open_store(), args.ref)
    print(json.dumps(lineage.to_dict(), indent=2) if args.json else render(lineage))
    return 0


def cmd_card(args) -> int:
    from pipeline.lineage.cards import card_text
    from pipeline.paths import check_output_path, write_user_text

    text = card_text(open_store(), args.kind, args.ref)
    if args.out:
        write_user_text(check_output_path(args.out, "card"), text, "card")
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0
