"""`python -m pipeline chat talk|list|show|export|delete|to-pairs|vote|leaderboard|battles|unload`.

    python -m pipeline chat talk SmolLM2-135M-Instruct --prompt "Reverse a string in Lua"
    python -m pipeline chat talk model-a model-b          # side by side; reads turns from stdin
"""
from __future__ import annotations

import sys
import uuid

from pipeline.config import add_config_arguments, config_from_args
from pipeline.store import open_store


def register(sub) -> None:
    from pipeline.chat.settings import ChatSettings

    p = sub.add_parser("chat", help="chat with models, side by side; votes, leaderboard, conversations")
    csub = p.add_subparsers(dest="chat_command", required=True, metavar="ACTION")
    talk = csub.add_parser("talk", help="chat in the terminal (one model streams; 2-4 answer side by side)")
    talk.add_argument("models", nargs="+", help="registered model names (1 to 4)")
    talk.add_argument("--prompt", help="send this one message and exit (otherwise read messages from stdin)")
    talk.add_argument("--chat", type=int, help="continue this conversation id")
    talk.add_argument("--battle", action="store_true", help="hide the two models' names as A/B")
    add_config_arguments(talk, ChatSettings)
    talk.set_defaults(func=cmd_talk)

    ls = csub.add_parser("list", help="saved conversations, newest first")
    ls.add_argument("--limit", type=int, default=50, help="how many to list")
    ls.set_defaults(func=cmd_list)
    show = csub.add_parser("show", help="print one conversation")
    show.add_argument("chat_id", type=int, help="conversation id")
    show.set_defaults(func=cmd_show)
    ex = csub.add_parser("export", help="write conversations as JSONL")
    ex.add_argument("--out", required=True, help="JSONL file to write")
    ex.add_argument("ids", nargs="*", type=int, help="conversation ids (default: all)")
    ex.set_defaults(func=cmd_export)
    rm = csub.add_parser("delete", help="delete a conversation (its votes and pairs stay)")
    rm.add_argument("chat_id", type=int, help="conversation id")
    rm.set_defaults(func=cmd_delete)
    tp = csub.add_parser("to-pairs", help="turn answers into draft pairs (origin chat)")
    tp.add_argument("chat_id", type=int, help="conversation id")
    tp.add_argument("--message", type=int, help="only this answer (message id)")
    tp.add_argument("--output-file", help="a corrected answer to use instead of the model's text")
    tp.add_argument("--turn-only", action="store_true",
                    help="only the answered turn, without the earlier turns (default: the conversation up to it)")
    tp.set_defaults(func=cmd_to_pairs)
    vote = csub.add_parser("vote", help="vote on the last turn of a two-model conversation")
    vote.add_argument("chat_id", type=int, help="conversation id")
    vote.add_argument("winner", choices=["a", "b", "tie", "both_bad"], help="which answer was better")
    vote.set_defaults(func=cmd_vote)
    lb = csub.add_parser("leaderboard", help="Elo and Bradley-Terry ratings with 95%% intervals")
    lb.add_argument("--rounds", type=int, default=100, help="bootstrap resamples for the intervals")
    lb.set_defaults(func=cmd_leaderboard)
    un = csub.add_parser("unload", help="free a loaded model (all when no name is given)")
    un.add_argument("model", nargs="?", help="registered model name")
    un.set_defaults(func=cmd_unload)
    from pipeline.chat import exchange_cli

    exchange_cli.register(csub)


def cmd_talk(args) -> int:
    from pipeline.chat import Column, new_chat, send
    from pipeline.chat.conversation import check_prompt
    from pipeline.chat.settings import ChatSettings

    store = open_store()
    settings = config_from_args(ChatSettings, args)
    if args.prompt is not None:
        check_prompt(args.prompt)  # before a conversation row is made for nothing
    models = list(args.models)
    if args.chat:
        chat_id = args.chat
        models = store.get_chat(chat_id)["models"] if args.battle else models
    else:
        if args.battle:  # the order decides who is A: random, or the command line would tell
            from pipeline.chat.arena import pick_battle

            models = pick_battle(models) if len(set(models)) == 2 and len(models) == 2 else models
        chat_id = new_chat(store, models, mode="battle" if args.battle else
                           ("side" if len(models) > 1 else "single"), system=settings.system)
    labels = ["A", "B"] if args.battle else models
    columns = [Column(m, settings, label) for m, label in zip(models, labels)]
    print(f"conversation {chat_id}", file=sys.stderr)
    prompts = [args.prompt] if args.prompt is not None else _stdin_prompts()
    for prompt in prompts:
        _stream_turn(send(store, chat_id, prompt, columns, run_key=uuid.uuid4().hex))
    return 0


def _stdin_prompts():
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("> ", end="", flush=True, file=sys.stderr)
        line = sys.stdin.readline()
        if not line or line.strip() in ("/quit", "/exit"):
            return
        if line.strip():
            yield line.rstrip("\n")


def _stream_turn(snapshots) -> None:
    """One model: its tokens as they come. Several: the first streams, the rest print when done."""
    printed, last = 0, None
    for states in snapshots:
        last = states
        first = states[0]
        if len(states) > 1 and printed == 0 and first.text:
            print(f"[{first.label}]")
        if first.text[printed:]:
            print(first.text[printed:], end="", flush=True)
            printed = len(first.text)
    if last is None:
        return
    print()
    _report(last[0])
    for s in last[1:]:
        print(f"\n[{s.label}]\n{s.text}")
        _report(s)


def _report(state) -> None:
    if state.notice:
        print(f"note: {state.notice}", file=sys.stderr)
    if state.error:
        print(f"error ({state.label}): {state.error}", file=sys.stderr)


def cmd_list(args) -> int:
    from pipeline.chat.arena import shown_models

    for c in open_store().list_chats(limit=args.limit):
        print(f"{c['id']:>5}  {c['updated_at'][:16]}  {c['mode']:<6} {c['turns']:>3} turns  "
              f"{', '.join(shown_models(c))}  {c['title'] or ''}")
    return 0


def cmd_show(args) -> int:
    from pipeline.chat.arena import blind

    chat = blind(open_store().get_chat(args.chat_id))
    print(f"conversation {chat['id']} ({chat['mode']}): {', '.join(chat['models'])}")
    for m in chat["messages"]:
        who = "you" if m["role"] == "user" else f"{m['model']} #{m['id']}"
        extra = f" [{m['status']}{': ' + m['error'] if m['error'] else ''}]" if m["status"] != "done" else ""
        print(f"\n-- {who}{extra}\n{m['content']}")
    return 0


def cmd_export(args) -> int:
    from pipeline.chat import export_jsonl

    n = export_jsonl(open_store(), args.ids or None, args.out)
    print(f"wrote {n} conversation(s) to {args.out}")
    return 0


def cmd_delete(args) -> int:
    from pipeline.chat.conversation import delete

    delete(open_store(), args.chat_id)
    print(f"deleted conversation {args.chat_id}")
    return 0


def cmd_to_pairs(args) -> int:
    from pipeline.chat import send_to_pairs
    from pipeline.paths import read_user_text

    output = read_user_text(args.output_file, "output file") if args.output_file else None
    ids = send_to_pairs(open_store(), args.chat_id, message_id=args.message, output=output,
                        keep_context=not args.turn_only)
    print(f"pair(s) {', '.join(map(str, ids))} (origin chat, draft): review them in the Pairs tab")
    return 0


def cmd_vote(args) -> int:
    from pipeline.chat.arena import vote

    result = vote(open_store(), args.chat_id, args.winner)
    print(f"A was {result['a']}, B was {result['b']}; vote: {args.winner}")
    return 0


def cmd_leaderboard(args) -> int:
    from pipeline.chat.leaderboard import arena_leaderboard, rating_text

    rows = arena_leaderboard(open_store(), rounds=args.rounds)
    if not rows:
        print("no votes yet: vote in a battle (Chat tab or `chat vote`)")
    for r in rows:
        print(f"{r['model']:<28} BT {rating_text(r['bt'], r['bt_low'], r['bt_high'], r['battles']):<40} "
              f"Elo {rating_text(r['elo'], r['elo_low'], r['elo_high'], r['battles']):<40} "
              f"{r['wins']}W {r['losses']}L {r['ties']}T {r['both_bad']} both bad"
              + (f" ({r['imported']} imported)" if r.get("imported") else ""))
    return 0


def cmd_unload(args) -> int:
    from pipeline import models

    print(f"unloaded {models.unload(args.model)} model(s)")
    return 0
