"""`python -m pipeline quickstart plan|run`: the Quickstart tab's road from a terminal."""
from __future__ import annotations

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments
from pipeline.store import open_store


def register(sub) -> None:
    from pipeline.quickstart.road import QuickstartConfig

    p = sub.add_parser("quickstart", help="the whole road on the embedded defaults: curate, label, review, "
                                          "freeze, fine-tune, evaluate base vs tuned")
    qs = p.add_subparsers(dest="quickstart_command", required=True, metavar="ACTION")
    plan = qs.add_parser("plan", help="the steps, their expected duration and which are done")
    add_config_arguments(plan, QuickstartConfig)
    plan.set_defaults(func=cmd_plan)
    run = qs.add_parser("run", help="walk the steps that are not done yet (a job; resumable)")
    add_config_arguments(run, QuickstartConfig)
    add_wait_flags(run)
    run.set_defaults(func=cmd_run)


def cmd_plan(args) -> int:
    from pipeline.jobs.costs import duration_text
    from pipeline.quickstart.road import QuickstartConfig, Road

    cfg = QuickstartConfig.from_args(args)
    road = Road(open_store(), cfg)
    rows = road.status()
    for n, row in enumerate(rows, start=1):
        state = f"done: {row['summary']}" if row["done"] else f"about {duration_text(row['expected_s'])}"
        print(f"{n}. {row['title']:<40} {state}")
        print(f"   {row['what']}")
    print(road.totals_text())
    return 0


def cmd_run(args) -> int:
    from pipeline.quickstart.road import QuickstartConfig, start_quickstart

    store = open_store()
    return follow_job(store, start_quickstart(store, QuickstartConfig.from_args(args)), args.wait)
