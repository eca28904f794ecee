"""`python -m pipeline pairs messages ID [--file FILE] [--revision N]`: print a conversation pair's
messages as JSON, or replace them from a file of OpenAI or ShareGPT messages (recorded in its
history like any edit; `pairs edit` refuses a conversation's mirrored fields)."""
from __future__ import annotations

import json
import sys

from pipeline.paths import read_user_text
from pipeline.store import open_store


def register(ps) -> None:
    p = ps.add_parser("messages", help="print a pair's messages as JSON, or replace a conversation's messages "
                                       "(--file, OpenAI or ShareGPT JSON)")
    p.add_argument("pair_id", type=int, help="the pair's id")
    p.add_argument("--file", help="JSON list of messages to save ('-' = stdin)")
    p.add_argument("--revision", type=int, help="fail if the pair changed since this revision (see `show`)")
    p.set_defaults(func=cmd_messages)


def cmd_messages(args) -> int:
    from pipeline.pairs.conversations import normalize, pair_messages

    store = open_store()
    pair = store.get_pair(args.pair_id)
    if not args.file:
        print(json.dumps(pair_messages(pair), ensure_ascii=False, indent=2))
        return 0
    text = sys.stdin.read() if args.file == "-" else read_user_text(args.file, "conversation file")
    revision = args.revision if args.revision is not None else pair["revision"]
    saved = store.edit_pair_messages(args.pair_id, normalize(text, args.file), revision=revision)
    turns = sum(m["role"] == "user" for m in json.loads(saved["messages"])) if saved.get("messages") else 1
    print(f"pair {saved['id']} messages saved: {turns} turn(s) (revision {saved['revision']})")
    return 0
