"""Repos tab: search GitHub, add repos (picked, all, by name, local), run the curate job with live
progress, per-repo stats and snippet-count plots, and the snippet browser (studio/snippet_browser.py).

Handlers call pipeline.curate.github (`SearchConfig`, `search_repos`, `get_repo_info`),
pipeline.curate.job (`add_github_repos`, `add_local_repo`, `CurateConfig`, `start_curate`) and
pipeline.curate.scrub (`review_rows`, `describe_findings`), the same functions as
`python -m pipeline curate …`, and read the store's curate views (`curate_summary`, `list_repos`,
`list_snippets`, `snippet_counts`). GITHUB_TOKEN is read from the server's environment, never stored.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

import gradio as gr

from pipeline.curate import github, scrub
from pipeline.curate import job as curate
from pipeline.curate.languages import LANGUAGES
from pipeline.curate.licenses import PERMISSIVE_LICENSES
from pipeline.errors import StudioError
from pipeline.store import open_store
from studio.common import StudioContext, ui_errors
from studio.snippet_browser import layout_snippets, list_page, wire_snippets
from studio.widgets import job_status_html, on_start

TITLE = "Repos"
POLL_S = 1.0
RESULT_COLUMNS = ["pick", "repo", "stars", "license", "MB", "language", "pushed", "description"]
REPO_COLUMNS = ["id", "repo", "source", "status", "stars", "license", "MB", "files", "functions",
                "lines", "commit pairs", "engine", "commit", "error", "scrubbed"]


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


# --- handlers: plain values in, plain values (or gr updates) out -------------------------------

def search_config(language: str | None, licenses: list[str] | None, min_stars: float | None,
                  limit: float | None, pushed: str | None, created_after: str | None,
                  created_before: str | None, topic: str | None, words: str | None) -> github.SearchConfig:
    """The search form as the CLI's SearchConfig (which validates it)."""
    return github.SearchConfig.from_dict({
        "language": (language or "").strip(), "licenses": licenses or [], "min_stars": int(min_stars or 0),
        "limit": int(limit or 100), "pushed_after": (pushed or "").strip(),
        "created_after": (created_after or "").strip(), "created_before": (created_before or "").strip(),
        "topic": (topic or "").strip(), "query": (words or "").strip()})


def search(*form: Any) -> Iterator[tuple]:
    """Search GitHub with the search form's values, leaving out repos already curated. Yields
    (status, result rows, found records); the status changes while a rate-limit wait lasts."""
    # A generator, so a rate-limit wait shows up in the page while it happens.
    try:
        cfg = search_config(*form)
        skip = open_store().curated_urls()
    except (ValueError, StudioError) as exc:
        raise gr.Error(str(exc)) from exc
    notes: queue.Queue = queue.Queue()
    box: dict = {}

    def work() -> None:
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
def add_results(rows: list[list] | None, found_repos: list[dict] | None, only_picked: bool) -> tuple:
    """Add the found repos (only the ticked rows with `only_picked`); returns the overview."""
    picked = {r[1] for r in rows or [] if r and r[0] in (True, "true", "True", 1)}
    chosen = [r for r in found_repos or [] if not only_picked or r["full_name"] in picked]
    if not chosen:
        raise gr.Error("No repos to add: search first, and tick at least one")
    added, present = curate.add_github_repos(open_store(), chosen)
    gr.Info(f"Added {len(added)} repos" + (f"; {len(present)} were already there" if present else ""))
    return refresh()


def add_picked(rows: list[list] | None, found_repos: list[dict] | None) -> tuple:
    """"Add picked": the ticked search results."""
    return add_results(rows, found_repos, True)


def add_all(rows: list[list] | None, found_repos: list[dict] | None) -> tuple:
    """"Add all": every search result, ticked or not."""
    return add_results(rows, found_repos, False)


@ui_errors
def add_by_name(name: str | None) -> tuple:
    """Add one GitHub repo by owner/name (its metadata fetched from the API); returns the overview."""
    record = github.get_repo_info((name or "").strip())
    added, _ = curate.add_github_repos(open_store(), [record])
    gr.Info(f"Added {record['full_name']}" if added else f"{record['full_name']} is already there")
    return refresh()


@ui_errors
def add_local(path: str | None, subdir: str | None) -> tuple:
    """Add a folder or git repo on this machine (optionally one subfolder); returns the overview."""
    if not (path or "").strip():
        raise gr.Error("Enter the path of a folder or git repo on this machine")
    repo_id = curate.add_local_repo(open_store(), (path or "").strip(), (subdir or "").strip() or None)
    gr.Info(f"Added local repo {repo_id}")
    return refresh()


def curate_config(ids: str | None, fetch: bool, extract: bool, mine: bool, keep: bool, force: bool,
                  langs: list[str] | None, min_l: Any, max_l: Any, max_mb: Any, max_f: Any, n_commits: Any,
                  granularity: str | None, min_t: Any, max_t: Any, licenses: list[str] | None,
                  unlicensed: bool) -> curate.CurateConfig:
    """The curate form as the CLI's CurateConfig (an emptied number box means its default)."""
    return curate.CurateConfig.from_dict({
        "repo_ids": _int_list(ids or ""), "fetch": fetch, "extract": extract, "mine": mine, "keep_clones": keep,
        "force": force, "languages": langs or [], "min_lines": _num(min_l, curate.DEFAULT_MIN_LINES),
        "max_lines": _num(max_l, curate.DEFAULT_MAX_LINES), "max_repo_mb": _num(max_mb, curate.DEFAULT_MAX_REPO_MB),
        "max_files": _num(max_f, curate.DEFAULT_MAX_FILES), "max_commits": _num(n_commits, curate.DEFAULT_MAX_COMMITS),
        "granularity": granularity or "file", "min_tokens": _num(min_t, curate.DEFAULT_MIN_TOKENS),
        "max_tokens": _num(max_t, curate.DEFAULT_MAX_TOKENS), "licenses": licenses or [],
        "allow_unlicensed_local": bool(unlicensed)})


@ui_errors
def start_curate_job(*form: Any) -> tuple[int, str]:
    """Start a curate job from the curate form (curate_config's fields, in order); returns
    (job id, its progress row)."""
    cfg = curate_config(*form)
    store = open_store()
    jid = curate.start_curate(store, cfg)
    gr.Info(f"Curate job {jid} started")
    return jid, job_html(store.get_job(jid))


@ui_errors
def refresh() -> tuple:
    """The overview: (summary markdown, repo table rows, snippet-count figure)."""
    store = open_store()
    s = store.curate_summary()
    by_status = ", ".join(f"{n} {k}" for k, n in sorted(s["repos_by_status"].items())) or "none"
    text = (f"**{s['repos']} repos** ({by_status}) · **{s['snippets']} snippets** "
            f"({s['unique_snippets']} unique) · **{s['commit_pairs']} commit pairs**")
    return text, repo_rows(store.list_repos(limit=2000)), counts_figure(store.snippet_counts())


@ui_errors
def tick(jid: int | None, repo_id: Any, language: str | None, kind: str | None, name: str | None,
         unique: bool, page_no: Any) -> tuple:
    """The timer's poll of the curate job: (progress, *overview, job id, *snippet page). While the
    job runs only the progress changes; once it ends the overview and snippet page refresh once
    and the job id clears, which stops the polling."""
    if not jid:
        return (gr.skip(),) * 8
    job = open_store().get_job(int(jid))
    if job["status"] in ("queued", "running"):
        return job_html(job), *(gr.skip(),) * 7
    # Finished: refresh the overview and the snippet list once, then stop polling.
    return job_html(job), *refresh(), None, *list_page(repo_id, language, kind, name, unique, page_no)


@ui_errors
# --- layout ------------------------------------------------------------------------------------

class SearchForm(NamedTuple):
    language: gr.Textbox
    licenses: gr.Dropdown
    min_stars: gr.Number
    limit: gr.Number
    pushed: gr.Textbox
    created_after: gr.Textbox
    created_before: gr.Textbox
    topic: gr.Textbox
    words: gr.Textbox
    button: gr.Button
    status: gr.Markdown
    results: gr.Dataframe
    add_picked: gr.Button
    add_all: gr.Button

    def fields(self) -> list:
        """The inputs of `search`, in search_config's order."""
        return list(self[:9])


class AddForm(NamedTuple):
    by_name: gr.Textbox
    add_name: gr.Button
    local_path: gr.Textbox
    local_subdir: gr.Textbox
    add_local: gr.Button


class CurateForm(NamedTuple):
    fields: list   # curate_config's inputs, in order
    button: gr.Button
    progress: gr.HTML
    job_id: gr.State
    timer: gr.Timer


class Overview(NamedTuple):
    summary: gr.Markdown
    table: gr.Dataframe
    refresh: gr.Button
    plot: gr.Plot

    def outputs(self) -> list:
        """What `refresh` fills."""
        return [self.summary, self.table, self.plot]


def _layout_search() -> SearchForm:
    with gr.Accordion("Search GitHub", open=True):
        with gr.Row():
            language = gr.Textbox(label="Language", value="GDScript", scale=1)
            licenses = gr.Dropdown(list(github.PERMISSIVE_LICENSES), value=["mit"], multiselect=True,
                                   label="Licenses", scale=2)
            min_stars = gr.Number(label="Min stars", value=10, precision=0, minimum=0, scale=1)
            limit = gr.Number(label="Max results", value=100, precision=0, minimum=1, scale=1)
        with gr.Row():
            pushed = gr.Textbox(label="Pushed after (YYYY-MM-DD)", placeholder="any")
            created_after = gr.Textbox(label="Created after", placeholder="any")
            created_before = gr.Textbox(label="Created before", placeholder="any")
            topic = gr.Textbox(label="Topic", placeholder="e.g. godot")
            words = gr.Textbox(label="Words", placeholder="free text")
        button = gr.Button("Search", variant="primary")
        status = gr.Markdown(elem_id="repos-search-status")
        results = gr.Dataframe(headers=RESULT_COLUMNS, type="array", interactive=True,
                               datatype=["bool", "str", "str", "str", "str", "str", "str", "str"],
                               static_columns=list(range(1, 8)), wrap=True,
                               elem_id="repos-results", label="Results (untick to leave out)")
        with gr.Row():
            add_picked_btn = gr.Button("Add picked")
            add_all_btn = gr.Button("Add all")
    return SearchForm(language, licenses, min_stars, limit, pushed, created_after, created_before, topic,
                      words, button, status, results, add_picked_btn, add_all_btn)


def _layout_add() -> AddForm:
    with gr.Accordion("Add a repo by name or a local folder", open=False):
        with gr.Row():
            by_name = gr.Textbox(label="GitHub owner/name", placeholder="godotengine/godot-demo-projects")
            add_name_btn = gr.Button("Add from GitHub", scale=0)
        with gr.Row():
            local_path = gr.Textbox(label="Local folder or git repo", elem_id="repos-local-path")
            local_subdir = gr.Textbox(label="Only this subfolder (optional)")
            add_local_btn = gr.Button("Add local", scale=0)
    return AddForm(by_name, add_name_btn, local_path, local_subdir, add_local_btn)


def _layout_curate() -> CurateForm:
    gr.Markdown("### Curate")
    with gr.Row():
        ids = gr.Textbox(label="Repo ids (empty: every repo still to do)", placeholder="1, 2, 5")
        fetch = gr.Checkbox(label="Fetch", value=True)
        extract = gr.Checkbox(label="Extract", value=True)
        mine = gr.Checkbox(label="Mine commits", value=False)
        keep = gr.Checkbox(label="Keep clones", value=False)
        force = gr.Checkbox(label="Re-extract", value=False)
    with gr.Row():
        languages = gr.Dropdown(sorted(LANGUAGES), multiselect=True, label="Languages (empty: all)")
        min_lines = gr.Number(label="Min lines", value=curate.DEFAULT_MIN_LINES, precision=0, minimum=1)
        max_lines = gr.Number(label="Max lines", value=curate.DEFAULT_MAX_LINES, precision=0, minimum=1)
        max_mb = gr.Number(label="Max repo MB", value=curate.DEFAULT_MAX_REPO_MB, precision=0, minimum=1)
        max_files = gr.Number(label="Max files", value=curate.DEFAULT_MAX_FILES, precision=0, minimum=1)
    with gr.Row():
        licenses = gr.Dropdown(list(PERMISSIVE_LICENSES), value=list(PERMISSIVE_LICENSES), multiselect=True,
                               allow_custom_value=True, elem_id="curate-licenses",
                               label="Allowed licenses (SPDX; a repo under another license is not extracted)")
        unlicensed = gr.Checkbox(label="Local folders without a license file (your own code)", value=True)
    with gr.Accordion("Commit mining", open=False):
        with gr.Row():
            commits = gr.Number(label="Newest commits per repo", value=curate.DEFAULT_MAX_COMMITS, precision=0)
            granularity = gr.Radio(["file", "function"], value="file", label="Pair granularity")
            min_tokens = gr.Number(label="Min tokens (old+new)", value=curate.DEFAULT_MIN_TOKENS, precision=0)
            max_tokens = gr.Number(label="Max tokens (old+new)", value=curate.DEFAULT_MAX_TOKENS, precision=0)
    button = gr.Button("Start curate job", variant="primary", elem_id="repos-curate")
    progress = gr.HTML(job_html(None), elem_id="curate-progress")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S)
    fields = [ids, fetch, extract, mine, keep, force, languages, min_lines, max_lines, max_mb, max_files,
              commits, granularity, min_tokens, max_tokens, licenses, unlicensed]
    return CurateForm(fields, button, progress, job_id, timer)


def _layout_overview() -> Overview:
    summary = gr.Markdown(elem_id="repos-summary")
    table = gr.Dataframe(headers=REPO_COLUMNS, type="array", interactive=False, wrap=True,
                         elem_id="repos-table", label="Repos")
    refresh_btn = gr.Button("Refresh", scale=0, elem_id="repos-refresh")
    plot = gr.Plot(label="Snippets", elem_id="repos-plot")
    return Overview(summary, table, refresh_btn, plot)


# --- wiring ------------------------------------------------------------------------------------

def build(ctx: StudioContext) -> None:
    gr.Markdown("Find human-written code: search GitHub (or add a local folder), then fetch, extract "
                "functions and mine commits as one job. Each snippet keeps its repo, commit, path, lines "
                "and license.")
    search_form = _layout_search()
    found = gr.State([])
    add = _layout_add()
    curate_form = _layout_curate()
    overview = _layout_overview()
    browser = layout_snippets()

    overview_out = overview.outputs()
    search_form.button.click(search, search_form.fields(), [search_form.status, search_form.results, found],
                             api_name="do_search")
    search_form.add_picked.click(add_picked, [search_form.results, found], overview_out)
    search_form.add_all.click(add_all, [search_form.results, found], overview_out)
    add.add_name.click(add_by_name, add.by_name, overview_out)
    add.add_local.click(add_local, [add.local_path, add.local_subdir], overview_out)
    on_start(curate_form.button, start_curate_job, curate_form.fields, [curate_form.job_id, curate_form.progress])
    paging = browser.filters + [browser.page]
    curate_form.timer.tick(tick, [curate_form.job_id, *paging],
                           [curate_form.progress, *overview_out, curate_form.job_id, *browser.page_outputs()],
                           show_progress="hidden")
    overview.refresh.click(refresh, None, overview_out)
    ctx.on_load(refresh, None, overview_out)
    wire_snippets(ctx, browser, overview.refresh)


if __name__ == "__main__":   # python -m studio.repos_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
