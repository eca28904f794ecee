"""The Repos tab's snippet browser: snippets filtered by repo, language, kind and name, a page at a
time; a clicked row's provenance (repo, commit, path, lines, license, what the scrub pass replaced)
and highlighted code; and the scrub review table. Reads the store's curate views (`list_snippets`,
`get_snippet`, `snippet_scrub`) and pipeline.curate.scrub (`review_rows`, `describe_findings`)."""
from __future__ import annotations

import html
from typing import Any, NamedTuple

import gradio as gr

from pipeline.curate import scrub
from pipeline.curate.languages import LANGUAGES
from pipeline.store import open_store
from studio.common import StudioContext, ui_errors

PAGE_SIZE = 25
SNIPPET_COLUMNS = ["id", "repo", "path", "line", "language", "kind", "qualname", "lines", "duplicate of"]


def list_page(repo_id: Any, language: str | None, kind: str | None, name: str | None, unique: bool,
              page_no: Any) -> tuple[list[list], str, int]:
    """One page of snippets matching the filters: (rows, "page i of n · t snippets", page shown).
    A page past the last shows the last."""
    page_no = max(1, int(page_no or 1))
    query: dict[str, Any] = dict(repo_id=int(repo_id) if repo_id else None, language=language or None,
                                 kind=kind or None, name=(name or "").strip() or None,
                                 unique_only=bool(unique), limit=PAGE_SIZE)
    store = open_store()
    rows, total = store.list_snippets(**query, offset=(page_no - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page_no > pages:  # "next" on the last page stays there instead of showing nothing
        page_no = pages
        rows, total = store.list_snippets(**query, offset=(page_no - 1) * PAGE_SIZE)
    table = [[r["id"], r["repo"], r["path"], r["start_line"], r["language"], r["kind"], r["qualname"],
              r["lines"], r["duplicate_of"] or ""] for r in rows]
    return table, f"page {min(page_no, pages)} of {pages} · {total} snippets", min(page_no, pages)


def first_page(repo_id: Any, language: str | None, kind: str | None, name: str | None,
               unique: bool) -> tuple:
    """A filter changed: back to page 1."""
    return list_page(repo_id, language, kind, name, unique, 1)


def prev_page(repo_id: Any, language: str | None, kind: str | None, name: str | None, unique: bool,
              page_no: Any) -> tuple:
    """"◀ Prev": the page before (page 1 stays)."""
    return list_page(repo_id, language, kind, name, unique, max(1, int(page_no or 1) - 1))


def next_page(repo_id: Any, language: str | None, kind: str | None, name: str | None, unique: bool,
              page_no: Any) -> tuple:
    """"Next ▶": the page after (the last page stays, see list_page)."""
    return list_page(repo_id, language, kind, name, unique, int(page_no or 1) + 1)


def snippet_view(snippet_id: int) -> tuple[str, Any]:
    """One snippet: (provenance markdown, the code box's update with its highlight language)."""
    store = open_store()
    s = store.get_snippet(snippet_id)
    repo = store.get_repo(s["repo_id"])
    doc = f"\n\n**Dropped comment/docstring:** {html.escape(s['docstring'])}" if s["docstring"] else ""
    found = store.snippet_scrub(s["id"])
    doc += f"\n\n**Replaced before storing:** {scrub.describe_findings(found)}" if found else ""
    license_ = s.get("license") or repo["license"] or "unknown"
    text = (f"**{html.escape(repo['full_name'])}** @ `{(repo['commit_sha'] or 'working tree')[:12]}` · "
            f"`{html.escape(s['path'])}` lines {s['start_line']}–{s['end_line']} · {s['kind']} "
            f"`{html.escape(s['qualname'] or s['name'] or '')}` · license {license_}{doc}")
    spec = LANGUAGES.get(s["language"])
    return text, gr.update(value=s["code"], language=spec.highlight if spec else None)


@ui_errors
def show_snippet(rows: list[list] | None, evt: gr.SelectData) -> tuple:
    """A row of the snippet table clicked: its provenance and code."""
    row = evt.row_value if evt.row_value else (rows[evt.index[0]] if rows else None)
    if not row:
        return gr.skip(), gr.skip()
    return snippet_view(int(row[0]))


@ui_errors
def scrub_review(repo_id: Any) -> list[list]:
    """What the scrub pass replaced or held back, for one repo id (0 or empty: all)."""
    return scrub.review_rows(open_store(), int(repo_id) if repo_id else None)


class SnippetBrowser(NamedTuple):
    filters: list   # repo id, language, kind, name, hide duplicates
    prev: gr.Button
    page: gr.Number
    next: gr.Button
    page_info: gr.Markdown
    table: gr.Dataframe
    provenance: gr.Markdown
    code: gr.Code
    review_button: gr.Button
    review: gr.Dataframe

    def page_outputs(self) -> list:
        """What `list_page` fills."""
        return [self.table, self.page_info, self.page]


def layout_snippets() -> SnippetBrowser:
    gr.Markdown("### Snippets")
    with gr.Row():
        repo = gr.Number(label="Repo id (0 = all)", value=0, precision=0, minimum=0)
        language = gr.Dropdown([""] + sorted(LANGUAGES), value="", label="Language")
        kind = gr.Dropdown(["", "function", "method", "class"], value="", label="Kind")
        name = gr.Textbox(label="Name contains")
        unique = gr.Checkbox(label="Hide duplicates", value=False)
    with gr.Row():
        prev_btn = gr.Button("◀ Prev", scale=0)
        page = gr.Number(label="Page", value=1, precision=0, minimum=1, scale=0)
        next_btn = gr.Button("Next ▶", scale=0)
        page_info = gr.Markdown(elem_id="snippets-page-info")
    table = gr.Dataframe(headers=SNIPPET_COLUMNS, type="array", interactive=False,
                         elem_id="snippets-table", label="Click a row to see its code")
    provenance = gr.Markdown(elem_id="snippet-provenance")
    code = gr.Code(label="Code", language="python", interactive=False, lines=14, elem_id="snippet-code")
    with gr.Accordion("Secrets and personal data replaced or held back", open=False):
        gr.Markdown("Found before anything was stored: kind and line only (the values were never kept). "
                    "Uses the repo id above (0 = all).")
        review_btn = gr.Button("Show", scale=0, elem_id="scrub-review")
        review = gr.Dataframe(headers=["repo", "path", "line", "name", "what", "kinds and lines / reason", "snippet"],
                              type="array", interactive=False, wrap=True, elem_id="scrub-table")
    return SnippetBrowser([repo, language, kind, name, unique], prev_btn, page, next_btn, page_info, table,
                          provenance, code, review_btn, review)


def wire_snippets(ctx: StudioContext, browser: SnippetBrowser, refresh: gr.Button) -> None:
    """Filters and paging fill the table (a changed filter goes back to page 1), a clicked row
    shows its code; the tab's Refresh and the page's opening fill it too."""
    paging = browser.filters + [browser.page]
    for f in browser.filters:
        f.change(first_page, browser.filters, browser.page_outputs())
    browser.page.submit(list_page, paging, browser.page_outputs())
    browser.prev.click(prev_page, paging, browser.page_outputs())
    browser.next.click(next_page, paging, browser.page_outputs())
    refresh.click(list_page, paging, browser.page_outputs())
    ctx.on_load(list_page, paging, browser.page_outputs())
    browser.table.select(show_snippet, browser.table, [browser.provenance, browser.code])
    browser.review_button.click(scrub_review, browser.filters[0], browser.review)
