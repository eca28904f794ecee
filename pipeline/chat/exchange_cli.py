"""`python -m pipeline chat battles export|import FILE`: arena votes in FastChat's battle format
(pipeline.chat.fastchat_votes)."""
from __future__ import annotations

import json

from pipeline.store import open_store


def register(csub) -> None:
    p = csub.add_parser("battles", help="arena votes as FastChat battle records (elo_analysis.py reads them)")
    bsub = p.add_subparsers(dest="battles_command", required=True, metavar="ACTION")
    ex = bsub.add_parser("export", help="write every vote as a FastChat battle (.json array or .jsonl)")
    ex.add_argument("path", help="file to write: .json (as clean_battle_data.py writes) or .jsonl")
    ex.set_defaults(func=cmd_export)
    im = bsub.add_parser("import", help="add FastChat battle records (.json or .jsonl) as imported votes")
    im.add_argument("path", help="a clean_battle file or any file of battle records")
    im.set_defaults(func=cmd_import)


def cmd_export(args) -> int:
    from pipeline.chat.fastchat_votes import export_battles

    result = export_battles(open_store(), args.path)
    print(f"wrote {result['battles']} battles ({result['anonymous']} anonymous) to {result['path']}")
    return 0


def cmd_import(args) -> int:
    from pipeline.chat.fastchat_votes import import_battles

    report = import_battles(open_store(), args.path)
    print(f"imported {report['imported']} votes from {report['file']} ({report['already_present']} already "
          f"present, {report['malformed']} bad records); they are marked as imported in the leaderboard")
    for e in report["errors"][:20]:
        print(f"  line {e['line']}: {e['error']}")
    print(json.dumps({k: report[k] for k in ("records", "imported", "already_present", "malformed")}))
    return 0
