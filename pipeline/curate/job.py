"""The curate job: for each chosen repo, fetch → extract snippets → mine commit pairs → tidy up.

    job_id = jobs.submit(store, "curate", asdict(CurateConfig(repo_ids=[1, 2], mine=True)))
    python -m pipeline curate run --repo 1 --repo 2 --mine

One repo failing (gone, too big, a clone breaking off) is recorded on that repo (status 'failed'
and its error) and the job goes on with the next. Every step is skipped when the store already
has its result, so running the job again, or resuming it, only does what is missing: a repo
already extracted is not extracted again (unless `force`), a commit already mined is not stored
twice.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import JobConfig
from pipeline.curate import commits, fetch, scrub, source_files
from pipeline.curate.commits import DEFAULT_MAX_COMMITS, DEFAULT_MAX_TOKENS, DEFAULT_MIN_TOKENS
from pipeline.curate.extract import DEFAULT_MAX_LINES, DEFAULT_MIN_LINES
from pipeline.curate.fetch import DEFAULT_MAX_FILES, DEFAULT_MAX_REPO_MB, FetchError
from pipeline.curate.licenses import PERMISSIVE_LICENSES
from pipeline.curate.source_files import DEFAULT_MAX_FILE_KB
from pipeline.paths import clones_dir
from pipeline.store import Store, StoreError


@dataclass
class CurateConfig(JobConfig):
    repo_ids: list[int] = field(default_factory=list, metadata={
        "help": "repos to curate (empty: every repo not yet extracted)"})
    fetch: bool = field(default=True, metadata={"help": "clone/fetch repos that have no checkout yet"})
    extract: bool = field(default=True, metadata={"help": "extract functions and methods into snippets"})
    mine: bool = field(default=False, metadata={"help": "mine single-file commits into CommitPackFT-style pairs"})
    force: bool = field(default=False, metadata={"help": "extract (and mine) again repos already done"})
    retry_failed: bool = field(default=True, metadata={"help": "also retry repos whose last attempt failed"})
    keep_clones: bool = field(default=False, metadata={"help": "keep clones on disk after extraction"})
    max_repo_mb: int = field(default=DEFAULT_MAX_REPO_MB, metadata={"help": "refuse repos larger than this (MB)"})
    max_files: int = field(default=DEFAULT_MAX_FILES, metadata={"help": "refuse repos with more files than this"})
    languages: list[str] = field(default_factory=list, metadata={"help": "only these languages (empty: all known)"})
    min_lines: int = field(default=DEFAULT_MIN_LINES, metadata={"help": "shortest function kept (lines)"})
    max_lines: int = field(default=DEFAULT_MAX_LINES, metadata={"help": "longest function kept (lines)"})
    include_classes: bool = field(default=False, metadata={"help": "also keep whole classes as snippets"})
    max_file_kb: int = field(default=DEFAULT_MAX_FILE_KB, metadata={"help": "skip source files larger than this (KB)"})
    max_commits: int = field(default=DEFAULT_MAX_COMMITS, metadata={"help": "newest commits looked at per repo when mining"})
    granularity: str = field(default="file", metadata={"help": "commit pairs of whole files or of the one changed function (file|function)"})
    min_tokens: int = field(default=DEFAULT_MIN_TOKENS, metadata={"help": "smallest old+new size of a commit pair (tokens)"})
    max_tokens: int = field(default=DEFAULT_MAX_TOKENS, metadata={"help": "largest old+new size of a commit pair (tokens)"})
    disabled_filters: list[str] = field(default_factory=list, metadata={"help": "commit message filters to turn off (names from commit_filters.FILTERS)"})
    licenses: list[str] = field(default_factory=lambda: list(PERMISSIVE_LICENSES), metadata={
        "help": "SPDX ids a repo's license must be one of to be extracted (default: the permissive ones)"})
    allow_unlicensed_local: bool = field(default=True, metadata={
        "help": "extract local folders with no recognised license file (your own code); GitHub repos always need one"})

    def check(self) -> None:
        from pipeline.curate.commit_filters import FILTER_NAMES
        from pipeline.curate.languages import LANGUAGES

        unknown = [lang for lang in self.languages if lang not in LANGUAGES]
        if unknown:
            raise StoreError(f"unknown languages {unknown}; known: {', '.join(sorted(LANGUAGES))}")
        bad = [f for f in self.disabled_filters if f not in FILTER_NAMES]
        if bad:
            raise StoreError(f"unknown commit filters {bad}; known: {', '.join(FILTER_NAMES)}")
        if self.granularity not in commits.GRANULARITIES:
            raise StoreError(f"granularity must be file or function, not {self.granularity!r}")
        if self.min_lines < 1 or self.max_lines < self.min_lines:
            raise StoreError("need 1 <= min_lines <= max_lines")
        if not self.licenses:
            raise StoreError("allow at least one license (SPDX id, e.g. MIT)")
        if not (self.fetch or self.extract or self.mine):
            raise StoreError("nothing to do: turn on fetch, extract or mine")


def start_curate(store: Store, cfg: CurateConfig, title: str = "curate") -> int:
    """Submit the curate job (a child process); its progress and result live in the store."""
    from dataclasses import asdict

    from pipeline import jobs

    cfg.validate()
    return jobs.submit(store, "curate", asdict(cfg), title=title)


def add_local_repo(store: Store, path: str, subdir: str | None = None) -> int:
    """Register a local folder or git repo; a `subdir` limits extraction to that folder."""
    from pipeline.paths import server_path

    server_path(path, "the local folder")   # the gate: only the owner reads the server's folders
    record = fetch.local_source(path)
    if subdir:
        fetch.safe_subpath(Path(record["url"].removeprefix("file://")), subdir)
        record["subdir"] = subdir
    added, present = store.add_repos([record])
    if not added:
        raise StoreError(f"{path} is already in the store as {present[0]}")
    return added[0]


def add_github_repos(store: Store, records: list[dict]) -> tuple[list[int], list[str]]:
    for r in records:
        fetch.check_full_name(r["full_name"])
    return store.add_repos(records)


def select_repos(store: Store, cfg: CurateConfig) -> list[dict]:
    if cfg.repo_ids:
        return store.repos_to_curate(ids=cfg.repo_ids)
    statuses = ("new", "fetched") + (("failed",) if cfg.retry_failed else ())
    if cfg.mine or cfg.force:
        statuses += ("extracted",)
    return store.repos_to_curate(statuses=statuses)


def curate_repo(store: Store, repo: dict, cfg: CurateConfig, report=lambda msg: None,
                log=lambda msg: None) -> dict:
    """Fetch, extract and mine one repo as cfg says; returns what was done. Raises on failure."""
    done: dict = {"repo": repo["full_name"]}
    root_dir = clones_dir()
    checkout_path = Path(repo["local_path"]) if repo.get("local_path") else None
    wants_extract = cfg.extract and (repo["status"] != "extracted" or cfg.force)
    wants_mine = cfg.mine and ("commits" not in repo["stats"] or cfg.force)
    fetch_only = cfg.fetch and not cfg.extract and not cfg.mine
    needs_files = wants_extract or wants_mine or fetch_only
    if needs_files and (checkout_path is None or not checkout_path.exists()):
        if not cfg.fetch:
            raise FetchError(f"{repo['full_name']} has no checkout on disk; run with fetch on")
        report("fetching")
        depth = cfg.max_commits + 1 if wants_mine else 1
        checkout = fetch.fetch_repo(repo, root_dir, max_repo_mb=cfg.max_repo_mb, max_files=cfg.max_files,
                                    depth=depth, log=log)
        checkout_path = checkout.path
        repo = store.update_repo(repo["id"], local_path=str(checkout.path),
                                 commit_sha=checkout.commit_sha or repo.get("commit_sha"),
                                 status="fetched" if repo["status"] != "extracted" else "extracted",
                                 error=None)
        done["fetched"] = {"files": checkout.files, "mb": round(checkout.size_mb, 1)}
    if checkout_path is None:
        return done
    tree = fetch.safe_subpath(checkout_path, repo.get("subdir"))
    if wants_extract or wants_mine:
        repo = check_license(store, repo, checkout_path, cfg)
        done["license"] = repo.get("license")
    if wants_extract:
        result = source_files.extract_tree(
            tree, min_lines=cfg.min_lines, max_lines=cfg.max_lines, languages=cfg.languages or None,
            include_classes=cfg.include_classes, max_file_kb=cfg.max_file_kb,
            progress=lambda i, n, rel: report(f"extracting {i}/{n} files"))
        if repo.get("subdir"):
            for row in result.snippets:
                row["path"] = f"{repo['subdir'].strip('/')}/{row['path']}"
        # the scrub pass: nothing reaches the store (or a labeller) before secrets are replaced
        rows, held, scrubbed = scrub.scrub_snippet_rows(result.snippets, repo.get("license"))
        saved = store.replace_snippets(repo["id"], rows)
        stats = {**result.stats, **saved, "scrub": {**scrubbed, "held_back": held[:200]}}
        store.merge_repo_stats(repo["id"], **stats)
        engine = result.engine_version or (  # project.godot sits at the root, above a subdir
            source_files.godot_engine_version(checkout_path) if repo.get("subdir") else None)
        repo = store.update_repo(repo["id"], status="extracted", error=None, engine_version=engine)
        done["extracted"] = {"functions": result.stats["functions"], "files": result.stats["files"]}
    if wants_mine:
        if not (checkout_path / ".git").exists():
            log(f"{repo['full_name']}: not a git checkout, no commits to mine")
        else:
            fetch.deepen(checkout_path, cfg.max_commits + 1, log=log)
            pairs, why = commits.mine_commits(
                checkout_path, max_commits=cfg.max_commits, granularity=cfg.granularity,
                min_tokens=cfg.min_tokens, max_tokens=cfg.max_tokens, languages=cfg.languages or None,
                disabled_filters=cfg.disabled_filters,
                progress=lambda i, n, sha: report(f"mining commit {i}/{n}"))
            pairs, held, scrubbed = scrub.scrub_pair_rows(pairs)
            inserted = store.add_commit_pairs(repo["id"], pairs)
            store.merge_repo_stats(repo["id"], commit_pairs=len(pairs), commits=dict(why),
                                   commit_scrub={**scrubbed, "held_back": held[:200]})
            done["mined"] = {"pairs": len(pairs), "new": inserted}
    if not cfg.keep_clones and fetch.delete_clone(checkout_path, root_dir):
        store.update_repo(repo["id"], local_path=None)
        done["clone_deleted"] = True
    return done


class LicenseRefused(StoreError):
    """A repo's license is outside the curation's allowed licenses; nothing was extracted."""


def check_license(store: Store, repo: dict, checkout_path: Path, cfg: CurateConfig) -> dict:
    """Record the license read from the checkout's files (a local repo has no other source; a
    GitHub repo keeps GitHub's id unless it said NOASSERTION/other), and refuse one not allowed."""
    from pipeline.curate.licenses import detect_license, license_allowed

    current = repo.get("license")
    if repo.get("source") == "local" or not current or current.lower() in ("noassertion", "other"):
        detected = detect_license(checkout_path)
        if detected and detected != current:
            repo = store.update_repo(repo["id"], license=detected)
    allow_unknown = cfg.allow_unlicensed_local and repo.get("source") == "local"
    if not license_allowed(repo.get("license"), cfg.licenses, allow_unknown):
        raise LicenseRefused(
            f"license {repo.get('license') or 'unknown (no license file recognised)'} is not among the allowed "
            f"licenses ({', '.join(cfg.licenses)}); nothing extracted — add it to --licenses to curate this repo")
    return repo


def curate_job(ctx) -> dict:
    """Job kind "curate": every selected repo in turn, one failure never stopping the others."""
    from pipeline.jobs import JobCancelled

    cfg = CurateConfig.from_dict(ctx.params)
    repos = select_repos(ctx.store, cfg)
    ctx.log(f"{len(repos)} repos to curate")
    ok, failed = [], []
    for i, repo in enumerate(repos):
        name = repo["full_name"]
        ctx.progress(i, len(repos), f"{name}: starting", force=True)
        try:
            done = curate_repo(ctx.store, repo, cfg,
                               # called before the loop moves on, so i and name are this repo's
                               report=lambda msg: ctx.progress(i, len(repos), f"{name}: {msg}"),  # noqa: B023
                               log=ctx.log)
            ok.append(done)
            ctx.log(f"{name}: {done}")
        except JobCancelled:
            raise
        except Exception as exc:  # one repo's failure is recorded on it; the rest go on
            message = str(exc) if isinstance(exc, (StoreError, OSError, ValueError)) else \
                f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, (StoreError, OSError, ValueError)):
                traceback.print_exc()
            ctx.store.update_repo(repo["id"], status="failed", error=message)
            failed.append({"repo": name, "error": message})
            ctx.log(f"{name}: FAILED {message}")
    ctx.progress(len(repos), len(repos), f"{len(ok)} curated, {len(failed)} failed", force=True)
    return {"repos": len(repos), "curated": len(ok), "failed": failed,
            "snippets": sum(d.get("extracted", {}).get("functions", 0) for d in ok),
            "commit_pairs": sum(d.get("mined", {}).get("new", 0) for d in ok)}

