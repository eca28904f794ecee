"""`python -m pipeline curate search|add|add-local|run|fetch|extract|mine|repos|snippets|snippet`.

    python -m pipeline curate search --language GDScript --min-stars 20 --licenses mit apache-2.0 --add
    python -m pipeline curate add godotengine/godot-demo-projects
    python -m pipeline curate add-local ~/code/my-game --subdir scripts
    python -m pipeline curate run --mine            # fetch + extract + mine every new repo, waits
    python -m pipeline curate snippets --language gdscript --limit 20

GITHUB_TOKEN (or the variable named by --token-env) raises GitHub's limits; it is read from the
environment and never stored.
"""
from __future__ import annotations

import json
import sys

from pipeline.cli import add_wait_flags, follow_job
from pipeline.config import add_config_arguments, config_from_args
from pipeline.errors import StudioError
from pipeline.store import StoreError, open_store

PRESETS = {  # sub-command -> the steps it turns on (flags given by the user still win)
    "run": {},
    "fetch": {"fetch": True, "extract": False, "mine": False, "keep_clones": True},
    "extract": {"fetch": True, "extract": True, "mine": False},
    "mine": {"fetch": True, "extract": False, "mine": True},
}
PRESET_HELP = {
    "run": "fetch, extract (and with --mine, mine commits of) the chosen repos as one job",
    "fetch": "only clone/fetch the chosen repos (clones are kept for a later extract)",
    "extract": "fetch if needed, then extract functions and methods into snippets",
    "mine": "fetch with history if needed, then mine single-file commits into pairs",
}


def register(sub) -> None:
    from pipeline.curate.github import SearchConfig
    from pipeline.curate.job import CurateConfig

    p = sub.add_parser("curate", help="find repos on GitHub or disk, fetch them, extract functions, mine commits")
    csub = p.add_subparsers(dest="curate_command", required=True, metavar="ACTION")

    search = csub.add_parser("search", help="search GitHub repositories (skips repos already curated)")
    add_config_arguments(search, SearchConfig)
    search.add_argument("--add", action="store_true", help="store every result as a repo to curate")
    search.add_argument("--json", action="store_true", help="print the results as JSON lines")
    search.set_defaults(func=cmd_search)

    add = csub.add_parser("add", help="add GitHub repos by owner/name (metadata read from the API)")
    add.add_argument("full_names", nargs="+", help="owner/name of each repo")
    add.add_argument("--api-url", help="GitHub API base URL (default: $GITHUB_API_URL or api.github.com)")
    add.add_argument("--token-env", default="GITHUB_TOKEN", help="env var holding a token (never stored)")
    add.set_defaults(func=cmd_add)

    local = csub.add_parser("add-local", help="add a local folder or git repo (private code, offline use)")
    local.add_argument("path", help="the folder; a git repo is cloned at its HEAD, a folder read in place")
    local.add_argument("--subdir", help="only extract this folder inside it (relative, no '..')")
    local.set_defaults(func=cmd_add_local)

    for name, text in PRESET_HELP.items():
        run = csub.add_parser(name, help=text)
        add_config_arguments(run, CurateConfig, skip=("repo_ids",))
        run.add_argument("--repo", dest="repo_ids", type=int, action="append",
                         help="repo id to curate (repeatable; default: every repo still to do)")
        add_wait_flags(run, wait_by_default=True)
        run.set_defaults(func=cmd_run, preset=name)

    repos = csub.add_parser("repos", help="repos in the store with their status and stats")
    repos.add_argument("--status", help="only repos with this status (new, fetched, extracted, failed)")
    repos.add_argument("--json", action="store_true", help="print full rows as JSON lines")
    repos.set_defaults(func=cmd_repos)

    snippets = csub.add_parser("snippets", help="browse extracted snippets, one page at a time")
    snippets.add_argument("--repo", type=int, help="only this repo id")
    snippets.add_argument("--language", help="only this language (python, gdscript, …)")
    snippets.add_argument("--kind", choices=["function", "method", "class"], help="only this kind")
    snippets.add_argument("--name", help="name or qualified name contains this text")
    snippets.add_argument("--unique", action="store_true", help="hide exact duplicates")
    snippets.add_argument("--limit", type=int, default=20, help="rows per page")
    snippets.add_argument("--offset", type=int, default=0, help="rows to skip (page * limit)")
    snippets.set_defaults(func=cmd_snippets)

    scrubbed = csub.add_parser("scrubbed", help="review what the scrub pass replaced (kind and line) or held back")
    scrubbed.add_argument("--repo", type=int, help="only this repo id")
    scrubbed.add_argument("--limit", type=int, default=200, help="rows to print")
    scrubbed.set_defaults(func=cmd_scrubbed)

    rescrub = csub.add_parser("rescrub", help="run the scrub pass over snippets stored before it existed")
    rescrub.set_defaults(func=cmd_rescrub)

    show = csub.add_parser("snippet", help="print one snippet's code with its provenance")
    show.add_argument("snippet_id", type=int, help="the snippet id (see `curate snippets`)")
    show.set_defaults(func=cmd_snippet)


def _search_config(args):
    from pipeline.curate.github import SearchConfig

    try:
        return SearchConfig.from_args(args)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def cmd_search(args) -> int:
    from pipeline.curate.github import search_repos
    from pipeline.curate.job import add_github_repos

    cfg = _search_config(args)
    store = open_store()
    results = search_repos(
        cfg, skip_urls=store.curated_urls(),
        on_wait=lambda s, msg: print(msg, file=sys.stderr, flush=True),
        on_page=lambda n, msg: print(f"  {msg}", file=sys.stderr, flush=True))
    if args.json:
        for r in results:
            print(json.dumps(r, sort_keys=True))
    else:
        print(f"{'stars':>7}  {'license':<12} {'MB':>7}  {'language':<12} repo")
        for r in results:
            print(f"{r['stars'] or 0:>7}  {r['license'] or '-':<12} {(r['size_kb'] or 0) / 1024:>7.1f}  "
                  f"{r['language'] or '-':<12} {r['full_name']}")
        print(f"{len(results)} repos (already curated ones left out)")
    if args.add:
        added, present = add_github_repos(store, results)
        print(f"added {len(added)} repos" + (f", {len(present)} already present" if present else ""))
    return 0


def cmd_add(args) -> int:
    from pipeline.curate.github import get_repo_info
    from pipeline.curate.job import add_github_repos

    store = open_store()
    failures = 0
    for name in args.full_names:
        try:
            record = get_repo_info(name, api_url=args.api_url, token_env=args.token_env,
                                   on_wait=lambda s, msg: print(msg, file=sys.stderr, flush=True))
            added, _present = add_github_repos(store, [record])
            print(f"{name}: " + (f"added as repo {added[0]}" if added else "already in the store"))
        except StudioError as exc:  # one bad name does not stop the others
            failures += 1
            print(f"error: {name}: {exc}", file=sys.stderr)
    return 2 if failures else 0


def cmd_add_local(args) -> int:
    from pipeline.curate.job import add_local_repo

    repo_id = add_local_repo(open_store(), args.path, args.subdir)
    print(f"added repo {repo_id}; curate it with `python -m pipeline curate run --repo {repo_id}`")
    return 0


def cmd_run(args) -> int:
    from pipeline.curate.job import CurateConfig, start_curate

    given = {k: v for k, v in PRESETS[args.preset].items() if getattr(args, k, None) is None}
    try:
        cfg = config_from_args(CurateConfig, args, **given)
        cfg.validate()
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    store = open_store()
    job_id = start_curate(store, cfg, title=f"curate ({args.preset})")
    return follow_job(store, job_id, args.wait, report=curate_report)


def curate_report(job: dict) -> list[str]:
    result = job.get("result") or {}
    lines = [f"failed: {f['repo']}: {f['error']}" for f in result.get("failed", [])]
    if result:
        lines.append(f"{result.get('curated', 0)} curated, {result.get('snippets', 0)} snippets, "
                     f"{result.get('commit_pairs', 0)} commit pairs")
    return lines


def cmd_repos(args) -> int:
    store = open_store()
    rows = store.list_repos(status=args.status, limit=100_000)
    if args.json:
        for r in rows:
            print(json.dumps(r, sort_keys=True, default=str))
        return 0
    if not rows:
        print("no repos; add some with `curate search --add`, `curate add` or `curate add-local`")
        return 0
    print(f"{'id':>4}  {'status':<10} {'stars':>6} {'license':<10} {'files':>6} {'funcs':>6} "
          f"{'lines':>7}  {'engine':<10} repo")
    for r in rows:
        s = r["stats"]
        print(f"{r['id']:>4}  {r['status']:<10} {r['stars'] or 0:>6} {r['license'] or '-':<10} "
              f"{s.get('files', 0):>6} {s.get('functions', 0):>6} {s.get('lines', 0):>7}  "
              f"{r['engine_version'] or '-':<10} {r['full_name']}"
              + (f"\n      error: {r['error']}" if r["status"] == "failed" and r["error"] else ""))
    summary = store.curate_summary()
    print(f"{summary['repos']} repos, {summary['snippets']} snippets "
          f"({summary['unique_snippets']} unique), {summary['commit_pairs']} commit pairs")
    return 0


def cmd_snippets(args) -> int:
    rows, total = open_store().list_snippets(
        repo_id=args.repo, language=args.language, kind=args.kind, name=args.name,
        unique_only=args.unique, limit=args.limit, offset=args.offset)
    print(f"{'id':>6}  {'language':<10} {'kind':<8} {'lines':>5}  location")
    for r in rows:
        dup = f"  (duplicate of {r['duplicate_of']})" if r["duplicate_of"] else ""
        print(f"{r['id']:>6}  {r['language']:<10} {r['kind']:<8} {r['lines']:>5}  "
              f"{r['repo']}:{r['path']}:{r['start_line']} {r['qualname']}{dup}")
    print(f"rows {args.offset + 1 if rows else 0}-{args.offset + len(rows)} of {total}")
    return 0


def cmd_snippet(args) -> int:
    store = open_store()
    s = store.get_snippet(args.snippet_id)
    repo = store.get_repo(s["repo_id"])
    print(f"# {repo['full_name']} @ {repo['commit_sha'] or 'working tree'} · {s['path']}:"
          f"{s['start_line']}-{s['end_line']} · {s['language']} {s['kind']} {s['qualname']} · "
          f"license {s.get('license') or repo['license'] or 'unknown'}")
    if s["docstring"]:
        print("# docstring (cut from the code):")
        print("\n".join("#   " + line for line in s["docstring"].splitlines()))
    print(s["code"])
    return 0


def cmd_scrubbed(args) -> int:
    from pipeline.curate.scrub import review_rows

    store = open_store()
    rows = review_rows(store, args.repo, args.limit)
    for repo, path, line, name, what, detail, snippet_id in rows:
        ref = f"snippet {snippet_id}" if snippet_id else "not stored"
        print(f"{repo}:{path}:{line} {name}  {what}: {detail}  ({ref})")
    totals = store.scrub_totals()
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(totals["replaced"].items())) or "nothing"
    print(f"{len(rows)} rows; replaced in the store so far: {kinds} ({totals['rows']} snippets/pairs)")
    return 0


def cmd_rescrub(args) -> int:
    from pipeline.curate.scrub import rescrub_store

    result = rescrub_store(open_store())
    print(", ".join(f"{k} {v}" for k, v in sorted(result.items())) or "every snippet was already scanned")
    return 0
