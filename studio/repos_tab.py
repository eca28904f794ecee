"""Repos tab: search GitHub, add repos (picked, all, by name, local), run the curate job with live
progress, per-repo stats, a snippet browser with highlighted code, and snippet-count plots.

Every action calls pipeline.curate.github / pipeline.curate.job, the same functions as
`python -m pipeline curate …`. GITHUB_TOKEN is read from the server's environment, never stored.
"""
from __future__ import annotations

from pipeline.errors import StudioError

import html
import queue
import threading
import gradio as gr

from pipeline.curate import github, job as curate, scrub
from pipeline.curate.licenses import PERMISSIVE_LICENSES
from pipeline.curate.languages import LANGUAGES
from studio.widgets import job_status_html, on_start
from studio.common import StudioContext, ui_errors

TITLE = "Repos"
POLL_S = 1.0
PAGE_SIZE = 25
RESULT_COLUMNS = ["pick", "repo", "stars", "license", "MB", "language", "pushed", "description"]
REPO_COLUMNS = ["id", "repo", "source", "status", "stars", "license", "MB", "files", "functions",
                "lines", "commit pairs", "engine", "commit", "error", "scrubbed"]
SNIPPET_COLUMNS = ["id", "repo", "path", "line", "language", "kind", "qualname", "lines", "duplicate of"]


def job_html(job: dict | None) -> str:
    result = (job or {}).get("result") or {}
    note = None
    if job and job["status"] == "done" and result:
        note = (f"{result['curated']} curated, {len(result['failed'])} failed, {result['snippets']} snippets, "
                f"{result['commit_pairs']} commit pairs")
    return job_status_html(job, "curate-job", empty="No curate job started from this page yet.", note=note)


def result_rows(results: list[dict]) -> list[list]:
    return [[True, r["full_name"], r["stars"], r["license"] or "", round((r["size_kb"] or 0) / 1024, 1),
             r["language"] or "", (r["pushed_at"] or "")[:10], (r["description"] or "")[:120]]
            for r in results]


def repo_rows(repos: list[dict]) -> list[list]:
    rows = []
    for r in repos:
        s = r["stats"]
        rows.append([r["id"], r["full_name"], r["source"], r["status"], r["stars"], r["license"] or "",
                     round((r["size_kb"] or 0) / 1024, 1), s.get("files", 0), s.get("functions", 0),
                     s.get("lines", 0), s.get("commit_pairs", 0), r["engine_version"] or "",
                     (r["commit_sha"] or "")[:10], r["error"] or "", scrub.repo_scrub_note(s)])
    return rows


def counts_figure(counts: dict):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2), tight_layout=True)
    by_lang, by_len = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    langs = counts["by_language"] or [("none yet", 0)]
    by_lang.bar([lang for lang, _ in langs], [n for _, n in langs], color="#4c72b0")
    by_lang.set_title("snippets by language")
    by_len.bar([b for b, _ in counts["by_length"]], [n for _, n in counts["by_length"]], color="#55a868")
    by_len.set_title("snippets by length (lines)")
    for ax in (by_lang, by_len):
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def _num(value, default: int) -> int:
    """A gr.Number value as an int; an emptied box means the default."""
    return default if value in (None, "") else int(value)


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in (text or "").replace(",", " ").split()]
    except ValueError:
        raise gr.Error(f"repo ids must be numbers separated by commas, not {text!r}") from None


def build(ctx: StudioContext) -> None:
    gr.Markdown("Find human-written code: search GitHub (or add a local folder), then fetch, extract "
                "functions and mine commits as one job. Each snippet keeps its repo, commit, path, lines "
                "and license.")
    with gr.Accordion("Search GitHub", open=True):
        with gr.Row():
            s_language = gr.Textbox(label="Language", value="GDScript", scale=1)
            s_licenses = gr.Dropdown(list(github.PERMISSIVE_LICENSES), value=["mit"], multiselect=True,
                                     label="Licenses", scale=2)
            s_min_stars = gr.Number(label="Min stars", value=10, precision=0, minimum=0, scale=1)
            s_limit = gr.Number(label="Max results", value=100, precision=0, minimum=1, scale=1)
        with gr.Row():
            s_pushed = gr.Textbox(label="Pushed after (YYYY-MM-DD)", placeholder="any")
            s_created_after = gr.Textbox(label="Created after", placeholder="any")
            s_created_before = gr.Textbox(label="Created before", placeholder="any")
            s_topic = gr.Textbox(label="Topic", placeholder="e.g. godot")
            s_query = gr.Textbox(label="Words", placeholder="free text")
        search_btn = gr.Button("Search", variant="primary")
        search_status = gr.Markdown(elem_id="repos-search-status")
        results = gr.Dataframe(headers=RESULT_COLUMNS, datatype=["bool"] + ["str"] * 7, type="array",
                               interactive=True, static_columns=list(range(1, 8)), wrap=True,
                               elem_id="repos-results", label="Results (untick to leave out)")
        with gr.Row():
            add_picked_btn = gr.Button("Add picked")
            add_all_btn = gr.Button("Add all")
    found = gr.State([])
    with gr.Accordion("Add a repo by name or a local folder", open=False):
        with gr.Row():
            by_name = gr.Textbox(label="GitHub owner/name", placeholder="godotengine/godot-demo-projects")
            add_name_btn = gr.Button("Add from GitHub", scale=0)
        with gr.Row():
            local_path = gr.Textbox(label="Local folder or git repo", elem_id="repos-local-path")
            local_subdir = gr.Textbox(label="Only this subfolder (optional)")
            add_local_btn = gr.Button("Add local", scale=0)
    gr.Markdown("### Curate")
    with gr.Row():
        c_repos = gr.Textbox(label="Repo ids (empty: every repo still to do)", placeholder="1, 2, 5")
        c_fetch = gr.Checkbox(label="Fetch", value=True)
        c_extract = gr.Checkbox(label="Extract", value=True)
        c_mine = gr.Checkbox(label="Mine commits", value=False)
        c_keep = gr.Checkbox(label="Keep clones", value=False)
        c_force = gr.Checkbox(label="Re-extract", value=False)
    with gr.Row():
        c_languages = gr.Dropdown(sorted(LANGUAGES), multiselect=True, label="Languages (empty: all)")
        c_min_lines = gr.Number(label="Min lines", value=curate.DEFAULT_MIN_LINES, precision=0, minimum=1)
        c_max_lines = gr.Number(label="Max lines", value=curate.DEFAULT_MAX_LINES, precision=0, minimum=1)
        c_max_mb = gr.Number(label="Max repo MB", value=curate.DEFAULT_MAX_REPO_MB, precision=0, minimum=1)
        c_max_files = gr.Number(label="Max files", value=curate.DEFAULT_MAX_FILES, precision=0, minimum=1)
    with gr.Row():
        c_licenses = gr.Dropdown(list(PERMISSIVE_LICENSES), value=list(PERMISSIVE_LICENSES), multiselect=True,
                                 allow_custom_value=True, elem_id="curate-licenses",
                                 label="Allowed licenses (SPDX; a repo under another license is not extracted)")
        c_unlicensed = gr.Checkbox(label="Local folders without a license file (your own code)", value=True)
    with gr.Accordion("Commit mining", open=False):
        with gr.Row():
            c_commits = gr.Number(label="Newest commits per repo", value=curate.DEFAULT_MAX_COMMITS, precision=0)
            c_granularity = gr.Radio(["file", "function"], value="file", label="Pair granularity")
            c_min_tokens = gr.Number(label="Min tokens (old+new)", value=curate.DEFAULT_MIN_TOKENS, precision=0)
            c_max_tokens = gr.Number(label="Max tokens (old+new)", value=curate.DEFAULT_MAX_TOKENS, precision=0)
    curate_btn = gr.Button("Start curate job", variant="primary", elem_id="repos-curate")
    progress = gr.HTML(job_html(None), elem_id="curate-progress")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S)
    summary = gr.Markdown(elem_id="repos-summary")
    repos_table = gr.Dataframe(headers=REPO_COLUMNS, type="array", interactive=False, wrap=True,
                               elem_id="repos-table", label="Repos")
    refresh_btn = gr.Button("Refresh", scale=0, elem_id="repos-refresh")
    plot = gr.Plot(label="Snippets", elem_id="repos-plot")

    gr.Markdown("### Snippets")
    with gr.Row():
        f_repo = gr.Number(label="Repo id (0 = all)", value=0, precision=0, minimum=0)
        f_language = gr.Dropdown([""] + sorted(LANGUAGES), value="", label="Language")
        f_kind = gr.Dropdown(["", "function", "method", "class"], value="", label="Kind")
        f_name = gr.Textbox(label="Name contains")
        f_unique = gr.Checkbox(label="Hide duplicates", value=False)
    with gr.Row():
        prev_btn = gr.Button("◀ Prev", scale=0)
        page = gr.Number(label="Page", value=1, precision=0, minimum=1, scale=0)
        next_btn = gr.Button("Next ▶", scale=0)
        page_info = gr.Markdown(elem_id="snippets-page-info")
    snippets = gr.Dataframe(headers=SNIPPET_COLUMNS, type="array", interactive=False,
                            elem_id="snippets-table", label="Click a row to see its code")
    provenance = gr.Markdown(elem_id="snippet-provenance")
    code = gr.Code(label="Code", language="python", interactive=False, lines=14, elem_id="snippet-code")
    with gr.Accordion("Secrets and personal data replaced or held back", open=False):
        gr.Markdown("Found before anything was stored: kind and line only (the values were never kept). "
                    "Uses the repo id above (0 = all).")
        review_btn = gr.Button("Show", scale=0, elem_id="scrub-review")
        review = gr.Dataframe(headers=["repo", "path", "line", "name", "what", "kinds and lines / reason", "snippet"],
                              type="array", interactive=False, wrap=True, elem_id="scrub-table")

    def search_config(language, licenses, min_stars, limit, pushed, c_after, c_before, topic, words):
        return github.SearchConfig.from_dict({
            "language": (language or "").strip(), "licenses": licenses or [], "min_stars": int(min_stars or 0),
            "limit": int(limit or 100), "pushed_after": (pushed or "").strip(),
            "created_after": (c_after or "").strip(), "created_before": (c_before or "").strip(),
            "topic": (topic or "").strip(), "query": (words or "").strip()})

    def do_search(*form):
        # A generator, so a rate-limit wait shows up in the page while it happens.
        try:
            cfg = search_config(*form)
            skip = ctx.store().curated_urls()
        except (ValueError, StudioError) as exc:
            raise gr.Error(str(exc)) from exc
        notes: queue.Queue = queue.Queue()
        box: dict = {}

        def work():
            try:
                box["results"] = github.search_repos(cfg, skip_urls=skip, on_wait=lambda s, m: notes.put(m),
                                                     on_page=lambda n, m: notes.put(f"searching: {m}"))
            except Exception as exc:  # handed to the page below
                box["error"] = exc

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        status = "searching…"
        while thread.is_alive():
            thread.join(0.25)
            while not notes.empty():
                status = notes.get()
            yield status, gr.skip(), gr.skip()
        if "error" in box:
            raise gr.Error(str(box["error"]))
        found_repos = box["results"]
        yield (f"{len(found_repos)} repos found (already curated ones left out)",
               result_rows(found_repos), found_repos)

    @ui_errors
    def add_results(rows, found_repos, only_picked):
        picked = {r[1] for r in rows or [] if r and r[0] in (True, "true", "True", 1)}
        chosen = [r for r in found_repos or [] if not only_picked or r["full_name"] in picked]
        if not chosen:
            raise gr.Error("No repos to add: search first, and tick at least one")
        added, present = curate.add_github_repos(ctx.store(), chosen)
        gr.Info(f"Added {len(added)} repos" + (f"; {len(present)} were already there" if present else ""))
        return refresh()

    @ui_errors
    def add_by_name(name):
        record = github.get_repo_info((name or "").strip())
        added, _ = curate.add_github_repos(ctx.store(), [record])
        gr.Info(f"Added {record['full_name']}" if added else f"{record['full_name']} is already there")
        return refresh()

    @ui_errors
    def add_local(path, subdir):
        if not (path or "").strip():
            raise gr.Error("Enter the path of a folder or git repo on this machine")
        repo_id = curate.add_local_repo(ctx.store(), path.strip(), (subdir or "").strip() or None)
        gr.Info(f"Added local repo {repo_id}")
        return refresh()

    @ui_errors
    def start(ids, fetch, extract, mine, keep, force, langs, min_l, max_l, max_mb, max_f, n_commits,
              granularity, min_t, max_t, licenses, unlicensed):
        cfg = curate.CurateConfig.from_dict({
            "repo_ids": _int_list(ids), "fetch": fetch, "extract": extract, "mine": mine, "keep_clones": keep,
            "force": force, "languages": langs or [], "min_lines": _num(min_l, curate.DEFAULT_MIN_LINES),
            "max_lines": _num(max_l, curate.DEFAULT_MAX_LINES), "max_repo_mb": _num(max_mb, curate.DEFAULT_MAX_REPO_MB),
            "max_files": _num(max_f, curate.DEFAULT_MAX_FILES), "max_commits": _num(n_commits, curate.DEFAULT_MAX_COMMITS),
            "granularity": granularity or "file", "min_tokens": _num(min_t, curate.DEFAULT_MIN_TOKENS),
            "max_tokens": _num(max_t, curate.DEFAULT_MAX_TOKENS), "licenses": licenses or [],
            "allow_unlicensed_local": bool(unlicensed)})
        store = ctx.store()
        jid = curate.start_curate(store, cfg)
        gr.Info(f"Curate job {jid} started")
        return jid, job_html(store.get_job(jid))

    @ui_errors
    def refresh():
        store = ctx.store()
        s = store.curate_summary()
        by_status = ", ".join(f"{n} {k}" for k, n in sorted(s["repos_by_status"].items())) or "none"
        text = (f"**{s['repos']} repos** ({by_status}) · **{s['snippets']} snippets** "
                f"({s['unique_snippets']} unique) · **{s['commit_pairs']} commit pairs**")
        return text, repo_rows(store.list_repos(limit=2000)), counts_figure(store.snippet_counts())

    @ui_errors
    def tick(jid, *listing):
        if not jid:
            return (gr.skip(),) * 8
        job = ctx.store().get_job(int(jid))
        if job["status"] in ("queued", "running"):
            return job_html(job), *(gr.skip(),) * 7
        # Finished: refresh the overview and the snippet list once, then stop polling.
        return job_html(job), *refresh(), None, *list_page(*listing)

    @ui_errors
    def list_page(repo_id, language, kind, name, unique, page_no):
        page_no = max(1, int(page_no or 1))
        query = dict(repo_id=int(repo_id) if repo_id else None, language=language or None, kind=kind or None,
                     name=(name or "").strip() or None, unique_only=bool(unique), limit=PAGE_SIZE)
        rows, total = ctx.store().list_snippets(**query, offset=(page_no - 1) * PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        if page_no > pages:  # "next" on the last page stays there instead of showing nothing
            page_no = pages
            rows, total = ctx.store().list_snippets(**query, offset=(page_no - 1) * PAGE_SIZE)
        table = [[r["id"], r["repo"], r["path"], r["start_line"], r["language"], r["kind"], r["qualname"],
                  r["lines"], r["duplicate_of"] or ""] for r in rows]
        return table, f"page {min(page_no, pages)} of {pages} · {total} snippets", min(page_no, pages)

    @ui_errors
    def show_snippet(rows, evt: gr.SelectData):
        row = evt.row_value if evt.row_value else (rows[evt.index[0]] if rows else None)
        if not row:
            return gr.skip(), gr.skip()
        store = ctx.store()
        s = store.get_snippet(int(row[0]))
        repo = store.get_repo(s["repo_id"])
        doc = f"\n\n**Dropped comment/docstring:** {html.escape(s['docstring'])}" if s["docstring"] else ""
        found = store.snippet_scrub(s["id"])
        doc += f"\n\n**Replaced before storing:** {scrub.describe_findings(found)}" if found else ""
        text = (f"**{html.escape(repo['full_name'])}** @ `{(repo['commit_sha'] or 'working tree')[:12]}` · "
                f"`{html.escape(s['path'])}` lines {s['start_line']}–{s['end_line']} · {s['kind']} "
                f"`{html.escape(s['qualname'] or s['name'] or '')}` · license {s.get('license') or repo['license'] or 'unknown'}{doc}")
        spec = LANGUAGES.get(s["language"])
        return text, gr.update(value=s["code"], language=spec.highlight if spec else None)

    search_form = [s_language, s_licenses, s_min_stars, s_limit, s_pushed, s_created_after, s_created_before,
                   s_topic, s_query]
    overview = [summary, repos_table, plot]
    filters = [f_repo, f_language, f_kind, f_name, f_unique]
    search_btn.click(do_search, search_form, [search_status, results, found])
    add_picked_btn.click(lambda rows, f: add_results(rows, f, True), [results, found], overview)
    add_all_btn.click(lambda rows, f: add_results(rows, f, False), [results, found], overview)
    add_name_btn.click(add_by_name, by_name, overview)
    add_local_btn.click(add_local, [local_path, local_subdir], overview)
    on_start(curate_btn, start, [c_repos, c_fetch, c_extract, c_mine, c_keep, c_force, c_languages, c_min_lines,
                             c_max_lines, c_max_mb, c_max_files, c_commits, c_granularity, c_min_tokens,
                             c_max_tokens, c_licenses, c_unlicensed], [job_id, progress])
    timer.tick(tick, [job_id, *filters, page], [progress, *overview, job_id, snippets, page_info, page],
               show_progress="hidden")
    refresh_btn.click(refresh, None, overview)
    ctx.on_load(refresh, None, overview)
    for f in filters:
        f.change(lambda *v: list_page(*v, 1), filters, [snippets, page_info, page])
    page.submit(list_page, filters + [page], [snippets, page_info, page])
    prev_btn.click(lambda *v: list_page(*v[:-1], max(1, int(v[-1] or 1) - 1)), filters + [page],
                   [snippets, page_info, page])
    next_btn.click(lambda *v: list_page(*v[:-1], int(v[-1] or 1) + 1), filters + [page],
                   [snippets, page_info, page])
    refresh_btn.click(list_page, filters + [page], [snippets, page_info, page])
    ctx.on_load(list_page, filters + [page], [snippets, page_info, page])
    snippets.select(show_snippet, snippets, [provenance, code])
    review_btn.click(ui_errors(lambda rid: scrub.review_rows(ctx.store(), int(rid) if rid else None)), f_repo, review)


if __name__ == "__main__":   # python -m studio.repos_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
