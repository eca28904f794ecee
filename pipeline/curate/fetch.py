"""Get a repo's files onto disk: a shallow git fetch at a recorded commit, or a local folder.

    checkout = fetch_repo(repo_row, clones_dir(), max_repo_mb=500, max_files=20_000, depth=1)
    checkout.path, checkout.commit_sha

Sources: a GitHub repo (its clone_url), a local git repo (cloned through file://, so the commit
is pinned and the history is there for commit mining) or a plain local folder (read in place,
never copied or deleted). The repo row's commit_sha, when set, is the commit fetched, so a second
fetch gives the same files. Limits: the size GitHub reports is checked before anything is
downloaded, the folder is measured while git runs (git is stopped once it passes the limit) and
again after, and the file count is checked after. git never prompts, runs no hooks, and a failed
fetch leaves no half-written clone behind.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import StudioError

DEFAULT_MAX_REPO_MB = 500
DEFAULT_MAX_FILES = 20_000
DEFAULT_TIMEOUT_S = 600
SIZE_POLL_S = 0.5
_FULL_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class FetchError(StudioError):
    """A repo could not be fetched (gone, too big, git failed, bad path); the message says why."""


@dataclass
class Checkout:
    path: Path
    commit_sha: str | None
    cloned: bool          # True: a clone we made (may be deleted); False: a local folder in place
    files: int
    size_mb: float


def check_full_name(full_name: str) -> str:
    """`owner/name` only: anything else could point a clone folder outside the clones dir."""
    if not _FULL_NAME.match(full_name or "") or ".." in full_name.split("/") or \
            any(part in (".", "..") for part in full_name.split("/")):
        raise FetchError(f"refusing repo name {full_name!r}: expected owner/name without '..' or '/'")
    return full_name


def safe_subpath(root: Path, rel: str | None) -> Path:
    """root/rel, refusing absolute paths, `..` and symlinks that lead outside root."""
    if not rel:
        return Path(root)
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise FetchError(f"refusing path {rel!r}: it must be relative to the repo and contain no '..'")
    target = Path(root) / pure
    resolved_root = Path(root).resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise FetchError(f"refusing path {rel!r}: it leads outside the repo (through a symlink)")
    if not target.is_dir():
        raise FetchError(f"{rel!r} is not a folder of the repo")
    return target


def clone_dir_for(full_name: str, dest_root: Path) -> Path:
    owner, name = check_full_name(full_name).split("/")
    return Path(dest_root) / f"{owner}__{name}"


def tree_size(root: Path) -> tuple[int, int]:
    """(bytes, files) under root without following symlinks; .git counts toward bytes only."""
    total = files = 0
    stack = [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
                    files += "/.git/" not in entry.path
            except OSError:
                continue
    return total, files


def fetch_repo(repo: dict, dest_root: Path, *, max_repo_mb: int = DEFAULT_MAX_REPO_MB,
               max_files: int = DEFAULT_MAX_FILES, depth: int = 1, timeout_s: int = DEFAULT_TIMEOUT_S,
               log: Callable[[str], None] = lambda m: None) -> Checkout:
    """Fetch one repo row (source github/local); raises FetchError with a readable reason."""
    if repo.get("source") == "local" and not (repo.get("clone_url") or "").startswith("file://"):
        return _local_folder(repo, max_repo_mb, max_files)
    if repo.get("size_kb") and repo["size_kb"] > max_repo_mb * 1024:
        raise FetchError(f"{repo['full_name']} is {repo['size_kb'] / 1024:.0f} MB on GitHub, over the "
                         f"{max_repo_mb} MB limit; not cloned")
    url = repo.get("clone_url") or (repo["url"].rstrip("/") + ".git")
    dest = clone_dir_for(repo["full_name"], dest_root)
    if dest.exists():
        shutil.rmtree(dest)  # a leftover from an interrupted run: start clean
    dest.mkdir(parents=True)
    try:
        sha = _git_fetch(url, dest, repo.get("commit_sha") or "HEAD", depth, max_repo_mb, timeout_s, log)
        size, files = tree_size(dest)
        if size > max_repo_mb * 1024 * 1024:
            raise FetchError(f"{repo['full_name']} is {size / 2**20:.0f} MB once cloned, over the "
                             f"{max_repo_mb} MB limit")
        if files > max_files:
            raise FetchError(f"{repo['full_name']} has {files} files, over the {max_files} file limit")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return Checkout(dest, sha, True, files, size / 2**20)


def deepen(path: Path, depth: int, log: Callable[[str], None] = lambda m: None) -> None:
    """Give a shallow clone enough history for commit mining (a depth-1 fetch has none)."""
    if not (Path(path) / ".git" / "shallow").exists():
        return
    have = int(_git(["rev-list", "--count", "HEAD"], path).strip() or 0)
    if have >= depth:
        return
    log(f"deepening {path.name} to {depth} commits for mining")
    _git(["-c", "protocol.file.allow=always", "fetch", "--no-tags", f"--depth={depth}", "origin",
          _git(["rev-parse", "HEAD"], path).strip()], path, timeout=DEFAULT_TIMEOUT_S)


def delete_clone(path: str | Path, dest_root: Path) -> bool:
    """Remove a clone we made; anything outside the clones dir (a local folder) is left alone."""
    path = Path(path)
    if not path.exists() or not path.resolve().is_relative_to(Path(dest_root).resolve()):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True


def local_source(path: str) -> dict:
    """A repo row for a local folder or git repo (git repos are cloned, folders read in place)."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FetchError(f"{path} does not exist")
    if not folder.is_dir():
        raise FetchError(f"{path} is not a folder")
    folder = folder.resolve()
    is_git = (folder / ".git").exists() or ((folder / "HEAD").is_file() and (folder / "objects").is_dir())
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", folder.name.removesuffix(".git")) or "repo"
    if name in (".", ".."):
        name = "repo"
    return {
        "source": "local", "full_name": f"local/{name}", "url": folder.as_uri(),
        "clone_url": folder.as_uri() if is_git else None, "local_path": None if is_git else str(folder),
        "status": "new",
    }


# -- internals ----------------------------------------------------------------------------------
def _local_folder(repo: dict, max_repo_mb: int, max_files: int) -> Checkout:
    folder = Path(repo.get("local_path") or repo["url"].removeprefix("file://"))
    if not folder.is_dir():
        raise FetchError(f"local folder {folder} no longer exists")
    size, files = tree_size(folder)
    if size > max_repo_mb * 2**20:
        raise FetchError(f"{folder} holds {size / 2**20:.0f} MB, over the {max_repo_mb} MB limit")
    if files > max_files:
        raise FetchError(f"{folder} has {files} files, over the {max_files} file limit")
    return Checkout(folder, None, False, files, size / 2**20)


def _git(args: list[str], cwd: Path, timeout: float = 60) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_git_env(), stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        verb = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise FetchError(f"git {verb} failed: {_last_lines(proc.stderr)}")
    return proc.stdout


def _git_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="/bin/true", GIT_LFS_SKIP_SMUDGE="1",
               GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    return env


def _git_fetch(url: str, dest: Path, ref: str, depth: int, max_mb: int, timeout_s: int,
               log: Callable[[str], None]) -> str:
    _git(["init", "-q"], dest)
    _git(["config", "core.hooksPath", "/dev/null"], dest)
    _git(["remote", "add", "origin", url], dest)
    cmd = ["git", "-c", "protocol.file.allow=always", "fetch", "--no-tags", "--no-recurse-submodules"]
    if depth > 0:
        cmd += ["--depth", str(depth)]
    cmd += ["origin", ref]
    log(f"git fetch {'--depth ' + str(depth) + ' ' if depth > 0 else ''}{url} {ref}")
    proc = subprocess.Popen(cmd, cwd=dest, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_git_env(), text=True, start_new_session=True)
    stderr: list[str] = []
    pipe = proc.stderr
    assert pipe is not None  # stderr=PIPE
    reader = threading.Thread(target=lambda: stderr.extend(pipe), daemon=True)
    reader.start()
    started, over = time.monotonic(), None
    while True:
        try:
            proc.wait(timeout=SIZE_POLL_S)
            break
        except subprocess.TimeoutExpired:
            pass
        size, _ = tree_size(dest)
        if size > max_mb * 2**20:
            over = size
        if over or time.monotonic() - started > timeout_s:
            try:  # git's helpers (index-pack, remote-https) share its session: stop them all
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            break
    reader.join(timeout=5)
    if over:
        raise FetchError(f"stopped the download at {over / 2**20:.0f} MB: over the {max_mb} MB limit")
    if proc.returncode != 0 and time.monotonic() - started > timeout_s:
        raise FetchError(f"git fetch took longer than {timeout_s} s; stopped")
    if proc.returncode != 0:
        raise FetchError(_explain_git_failure(url, "".join(stderr)))
    _git(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", "FETCH_HEAD"], dest,
         timeout=timeout_s)
    return _git(["rev-parse", "HEAD"], dest).strip()


def _explain_git_failure(url: str, stderr: str) -> str:
    lowered = stderr.lower()
    if any(s in lowered for s in ("not found", "does not appear to be a git repository",
                                  "could not read from remote repository", "terminal prompts disabled")):
        return (f"{url} was not found: the repository no longer exists, was renamed or is private "
                f"({_last_lines(stderr)})")
    if "early eof" in lowered or "corrupt" in lowered or "index-pack" in lowered:
        return f"the download from {url} broke off half way ({_last_lines(stderr)})"
    if "could not resolve host" in lowered or "unable to access" in lowered:
        return f"cannot reach {url} ({_last_lines(stderr)})"
    return f"git fetch from {url} failed: {_last_lines(stderr)}"


def _last_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " / ".join(lines[-n:]) or "no error output"
