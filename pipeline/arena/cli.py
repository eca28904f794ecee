"""`python -m pipeline arena publish|unpublish|published|votes|exclude|include|leaderboard|access`:
the owner's side of the public arena, and the gate's table (`access`)."""
from __future__ import annotations

from pipeline.store import open_store


def register(sub) -> None:
    p = sub.add_parser("arena", help="the public arena: publish models, see votes, exclude a visitor's votes")
    asub = p.add_subparsers(dest="arena_command", required=True, metavar="ACTION")
    for name, text in (("publish", "offer a registered model to the arena's visitors"),
                       ("unpublish", "stop offering a model in the arena")):
        cmd = asub.add_parser(name, help=text)
        cmd.add_argument("model", help="a registered model's name")
        cmd.set_defaults(func=cmd_publish, published=name == "publish")
    asub.add_parser("published", help="the models visitors can chat with").set_defaults(func=cmd_published)
    votes = asub.add_parser("votes", help="newest votes with their anonymous voter and whether they count")
    votes.add_argument("--limit", type=int, default=50, help="how many votes to show")
    votes.set_defaults(func=cmd_votes)
    for name, text in (("exclude", "stop counting every vote of one voter (kept, not deleted)"),
                       ("include", "count an excluded voter's votes again")):
        cmd = asub.add_parser(name, help=text)
        cmd.add_argument("voter", help="the voter id shown by `arena votes` (anon-…)")
        cmd.set_defaults(func=cmd_exclude, excluded=name == "exclude")
    board = asub.add_parser("leaderboard", help="ratings with bootstrap intervals (excluded votes left out)")
    board.add_argument("--rounds", type=int, default=200, help="bootstrap rounds for the intervals")
    board.set_defaults(func=cmd_leaderboard)
    asub.add_parser("access", help="print who may do what (the gate's role x capability table)"
                    ).set_defaults(func=cmd_access)


def cmd_publish(args) -> int:
    from pipeline import arena

    arena.publish(open_store(), args.model, args.published)
    print(f"{args.model} is {'now' if args.published else 'no longer'} offered in the arena")
    return 0


def cmd_published(args) -> int:
    names = open_store().published_models()
    print("\n".join(names) if names else "no model is published: `python -m pipeline arena publish MODEL`")
    return 0


def cmd_votes(args) -> int:
    from pipeline import arena

    rows = arena.votes(open_store(), args.limit)
    if not rows:
        print("no votes yet")
    for v in rows:
        print(f"{v['id']:>6} {v['at'][:19]} {v['voter'] or '-':<18} {v['mode']:<7} {v['model_a']} vs "
              f"{v['model_b']}: {v['winner']}" + ("" if v["counted"] else "  (excluded)"))
    return 0


def cmd_exclude(args) -> int:
    from pipeline import arena

    n = arena.exclude(open_store(), args.voter, args.excluded)
    print(f"{n} vote(s) of {args.voter} {'no longer count' if args.excluded else 'count again'}")
    return 0


def cmd_leaderboard(args) -> int:
    from pipeline import arena

    rows = arena.leaderboard(open_store(), rounds=args.rounds)
    if not rows:
        print("no votes yet")
    for r in rows:
        print(f"{r['model']:<28} BT {r['bt']:>7.1f} [{r['bt_low']:.0f}, {r['bt_high']:.0f}]  "
              f"{r['battles']} battles {r['wins']}W {r['losses']}L {r['ties']}T")
    return 0


def cmd_access(args) -> int:
    from pipeline import access

    print(access.table_markdown())
    return 0
