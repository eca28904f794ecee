"""GitHub repository search with PyGithub: qualifiers, date windows past the 1000-result cap,
rate limits waited out (and reported), anonymous or with a token.

    results = search_repos(SearchConfig(language="GDScript", min_stars=20), on_wait=print)
    info = get_repo_info("godotengine/godot-demo-projects")

The token comes from the environment variable named by `token_env` (GITHUB_TOKEN by default); it
is read when a client is made and never stored, logged or returned. Anonymous search works with
GitHub's low limits (10 searches a minute). `api_url` (default $GITHUB_API_URL, else
api.github.com) points PyGithub elsewhere: GitHub Enterprise, or the local server the tests start.

GitHub returns at most 1000 results per query. When more are wanted than one query can give, the
query is split by creation date into windows small enough to be served whole (halving a window
until it holds at most 1000 repos), so every repo is reachable.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial

from pipeline.config import JobConfig
from pipeline.errors import StudioError

SEARCH_CAP = 1000                 # GitHub serves at most this many results per search query
PER_PAGE = 100
DEFAULT_API_URL = "https://api.github.com"
FIRST_REPO_DATE = date(2008, 1, 1)
PERMISSIVE_LICENSES = ("mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "isc", "unlicense",
                       "0bsd", "zlib", "bsl-1.0", "cc0-1.0")


class GitHubError(StudioError):
    """GitHub refused or could not answer (bad query, not found, rate limit too long)."""


@dataclass
class SearchConfig(JobConfig):
    language: str = field(default="", metadata={"help": "GitHub language name, e.g. GDScript, Python, Lua"})
    licenses: list[str] = field(default_factory=lambda: ["mit"], metadata={
        "help": f"SPDX ids to accept, one search each; allowed: {', '.join(PERMISSIVE_LICENSES)}"})
    min_stars: int = field(default=0, metadata={"help": "only repos with at least this many stars"})
    max_stars: int | None = field(default=None, metadata={"help": "only repos with at most this many stars"})
    pushed_after: str = field(default="", metadata={"help": "YYYY-MM-DD: pushed to on or after this date"})
    pushed_before: str = field(default="", metadata={"help": "YYYY-MM-DD: last pushed before this date"})
    created_after: str = field(default="", metadata={"help": "YYYY-MM-DD: created on or after this date"})
    created_before: str = field(default="", metadata={"help": "YYYY-MM-DD: created on or before this date"})
    topic: str = field(default="", metadata={"help": "GitHub topic, e.g. godot"})
    query: str = field(default="", metadata={"help": "free text added to the search (words in name/description)"})
    limit: int = field(default=100, metadata={"help": "most repos to return in all"})
    include_forks: bool = field(default=False, metadata={"help": "also return forks"})
    api_url: str = field(default_factory=lambda: os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
                         metadata={"help": "GitHub API base URL (default: $GITHUB_API_URL or api.github.com)"})
    token_env: str = field(default="GITHUB_TOKEN", metadata={
        "help": "name of the environment variable holding a token (the token is never stored)"})
    max_wait_s: float = field(default=900, metadata={
        "help": "longest wait for a rate-limit reset before giving up"})

    def check(self) -> None:
        bad = [lic for lic in self.licenses if lic.lower() not in PERMISSIVE_LICENSES]
        if bad:
            raise GitHubError(f"license {', '.join(bad)} is not in the permissive list "
                              f"({', '.join(PERMISSIVE_LICENSES)})")
        if not self.licenses:
            raise GitHubError("pick at least one license")
        for name in ("pushed_after", "pushed_before", "created_after", "created_before"):
            if getattr(self, name):
                _parse_date(getattr(self, name), name)
        if self.limit < 1:
            raise GitHubError("limit must be at least 1")
        if not (self.language or self.topic or self.query):
            raise GitHubError("give a language, a topic or some search words")


def make_client(api_url: str = DEFAULT_API_URL, token_env: str = "GITHUB_TOKEN"):
    """A PyGithub client with its own retries off, so rate limits come back to us to report."""
    from github import Auth, Github

    token = os.environ.get(token_env) if token_env else None
    auth = Auth.Token(token) if token else None
    return Github(auth=auth, base_url=api_url.rstrip("/"), per_page=PER_PAGE, retry=None, timeout=30,
                  seconds_between_requests=None)


def build_query(cfg: SearchConfig, license_id: str, created: tuple[date, date] | None = None) -> str:
    parts = [cfg.query.strip()] if cfg.query.strip() else []
    if cfg.language:
        parts.append(f'language:"{cfg.language}"' if " " in cfg.language else f"language:{cfg.language}")
    parts.append(f"license:{license_id.lower()}")
    if cfg.max_stars is not None:
        parts.append(f"stars:{cfg.min_stars}..{cfg.max_stars}")
    elif cfg.min_stars:
        parts.append(f"stars:>={cfg.min_stars}")
    if cfg.pushed_after and cfg.pushed_before:
        parts.append(f"pushed:{cfg.pushed_after}..{cfg.pushed_before}")
    elif cfg.pushed_after:
        parts.append(f"pushed:>={cfg.pushed_after}")
    elif cfg.pushed_before:
        parts.append(f"pushed:<{cfg.pushed_before}")
    if created:
        parts.append(f"created:{created[0].isoformat()}..{created[1].isoformat()}")
    elif cfg.created_after or cfg.created_before:
        parts.append(f"created:{cfg.created_after or '*'}..{cfg.created_before or '*'}")
    if cfg.topic:
        parts.append(f"topic:{cfg.topic}")
    if cfg.include_forks:
        parts.append("fork:true")
    return " ".join(parts)


def search_repos(cfg: SearchConfig, *, skip_urls: Set[str] = frozenset(),
                 on_wait: Callable[[float, str], None] | None = None,
                 on_page: Callable[[int, str], None] | None = None, client=None) -> list[dict]:
    """Repos matching cfg (most stars first), minus those whose url is in skip_urls."""
    cfg.validate()
    gh = client or make_client(cfg.api_url, cfg.token_env)
    found: dict[str, dict] = {}
    for license_id in cfg.licenses:
        searcher = _Searcher(gh, cfg, license_id, skip_urls, found, on_wait, on_page)
        searcher.run()
        if len(found) >= cfg.limit:
            break
    ranked = sorted(found.values(), key=lambda r: (-(r["stars"] or 0), r["full_name"]))
    return ranked[:cfg.limit]


def get_repo_info(full_name: str, *, api_url: str | None = None, token_env: str = "GITHUB_TOKEN",
                  on_wait: Callable[[float, str], None] | None = None, max_wait_s: float = 900,
                  client=None) -> dict:
    """One repo's metadata (GET /repos/{owner}/{name}); a 404 is a GitHubError saying it is gone."""
    from pipeline.curate.fetch import check_full_name

    check_full_name(full_name)
    gh = client or make_client(api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL, token_env)
    repo = _with_rate_limit(lambda: gh.get_repo(full_name), f"repo {full_name}", on_wait, max_wait_s,
                            not_found=f"{full_name} does not exist on GitHub (404): deleted, renamed "
                                      "or private")
    return _with_rate_limit(lambda: repo_record(repo), f"repo {full_name}", on_wait, max_wait_s)


def repo_record(repo) -> dict:
    """The repos-table row for a PyGithub Repository (or search result)."""
    lic = repo.license
    return {
        "source": "github", "full_name": repo.full_name, "url": repo.html_url,
        "clone_url": repo.clone_url, "license": (lic.spdx_id or lic.key) if lic else None,
        "language": repo.language, "stars": repo.stargazers_count, "size_kb": repo.size,
        "description": repo.description, "default_branch": repo.default_branch,
        "pushed_at": _iso(repo.pushed_at), "repo_created_at": _iso(repo.created_at),
        "topics": list(repo.topics or []), "status": "new",
    }


# -- internals ----------------------------------------------------------------------------------
class _Searcher:
    def __init__(self, gh, cfg, license_id, skip_urls, found, on_wait, on_page):
        self.gh, self.cfg, self.license_id = gh, cfg, license_id
        self.skip_urls, self.found, self.on_wait, self.on_page = skip_urls, found, on_wait, on_page
        self.requests = 0

    def run(self) -> None:
        lo = _parse_date(self.cfg.created_after, "created_after") if self.cfg.created_after else FIRST_REPO_DATE
        hi = (_parse_date(self.cfg.created_before, "created_before") if self.cfg.created_before
              else datetime.now(UTC).date())
        wanted = self.cfg.limit - len(self.found)
        first = self._page(build_query(self.cfg, self.license_id), 0)
        if first.totalCount <= SEARCH_CAP or wanted <= SEARCH_CAP:
            self._collect(build_query(self.cfg, self.license_id), first)  # sorted by stars: top N
        else:
            self._window(lo, hi)

    def _window(self, lo: date, hi: date) -> None:
        if len(self.found) >= self.cfg.limit:
            return
        query = build_query(self.cfg, self.license_id, (lo, hi))
        page = self._page(query, 0)
        if page.totalCount > SEARCH_CAP and lo < hi:
            mid = lo + timedelta(days=(hi - lo).days // 2)
            self._window(lo, mid)
            self._window(mid + timedelta(days=1), hi)
        else:
            self._collect(query, page)

    def _collect(self, query: str, first) -> None:
        reachable = min(first.totalCount, SEARCH_CAP)
        items, number, seen = first.items, 0, len(first.items)
        while True:
            for item in items:
                record = _with_rate_limit(partial(repo_record, item), query, self.on_wait, self.cfg.max_wait_s)
                if record["url"] not in self.skip_urls and record["url"] not in self.found:
                    self.found[record["url"]] = record
                if len(self.found) >= self.cfg.limit:
                    return
            number += 1
            if len(items) < PER_PAGE or seen >= reachable:
                return
            items = self._page(query, number).items
            seen += len(items)
            if not items:
                return

    def _page(self, query: str, number: int):
        def fetch():
            results = self.gh.search_repositories(query, sort="stars", order="desc")
            items = results.get_page(number)
            return _Page(items, results.totalCount, results.incomplete_results)

        page = _with_rate_limit(fetch, query, self.on_wait, self.cfg.max_wait_s)
        self.requests += 1
        if self.on_page:
            note = " (GitHub says the results may be incomplete)" if page.incomplete else ""
            self.on_page(len(page.items), f"{query} · page {number + 1} · {page.totalCount} total{note}")
        return page


@dataclass
class _Page:
    items: list
    totalCount: int
    incomplete: bool | None


def _with_rate_limit(call, what: str, on_wait, max_wait_s: float, not_found: str | None = None):
    from github import GithubException, RateLimitExceededException, UnknownObjectException
    from requests.exceptions import RequestException

    while True:
        try:
            return call()
        except RateLimitExceededException as exc:
            wait = _reset_wait(exc.headers or {})
            if wait > max_wait_s:
                raise GitHubError(
                    f"GitHub rate limit reached; it resets in {wait / 60:.0f} min, longer than the "
                    f"{max_wait_s:.0f} s allowed. Set GITHUB_TOKEN for higher limits or retry later."
                ) from None
            if on_wait:
                on_wait(wait, f"rate limited by GitHub; waiting {wait:.0f} s for the reset")
            time.sleep(wait)
        except UnknownObjectException:
            raise GitHubError(not_found or f"GitHub has no {what} (404)") from None
        except GithubException as exc:
            message = (exc.data or {}).get("message") if isinstance(exc.data, dict) else exc.data
            errors = (exc.data or {}).get("errors") if isinstance(exc.data, dict) else None
            detail = "; ".join(e.get("message", "") if isinstance(e, dict) else str(e)
                               for e in errors or []) or ""
            if exc.status == 422:
                raise GitHubError(f"GitHub rejected the query {what!r}: {message}"
                                  + (f" ({detail})" if detail else "")) from None
            if exc.status == 404:
                raise GitHubError(not_found or f"GitHub has no {what} (404)") from None
            raise GitHubError(f"GitHub answered {exc.status} for {what!r}: {message}") from None
        except RequestException as exc:
            raise GitHubError(f"cannot reach GitHub ({type(exc).__name__}: {exc})") from None


def _reset_wait(headers: dict) -> float:
    lowered = {str(k).lower(): v for k, v in headers.items()}
    if lowered.get("retry-after"):
        return max(1.0, float(lowered["retry-after"]))
    reset = lowered.get("x-ratelimit-reset")
    if reset:
        return max(1.0, float(reset) - time.time() + 1)
    return 60.0  # a secondary limit without a hint: GitHub asks for at least a minute


def _parse_date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GitHubError(f"{name} must be a date like 2024-01-31, not {text!r}") from None


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
