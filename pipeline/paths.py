"""Where the studio keeps its files, and the one way a name becomes a path.

Everything lives under $STUDIO_HOME (default ./studio_data). Datasets, runs, models, exports and
checkpoints are named by people (and, hosted, by visitors), so a name only becomes a path through
`check_name` + `named_path`: a safe character set (letters, digits, `.`, `_`, `-`; starts with a
letter or digit; no `..`) and a resolved path that must stay inside its area of $STUDIO_HOME.
A path the user typed (an export's `--out`) goes through `check_output_path`: inside $STUDIO_HOME
or the folder the user chose, after resolving symlinks and `..`; who may write where is the gate's
(pipeline.access) decision. A server path someone wants read goes through `server_path`.

Not protected: a person with shell access writing into $STUDIO_HOME by other means.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pipeline.errors import StudioError

AREAS = ("datasets", "runs", "models", "exports", "checkpoints")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class UnsafeNameError(StudioError, ValueError):
    """A name or path would leave the studio's folders or uses characters a file name must not."""


def studio_home() -> Path:
    if os.environ.get("STUDIO_HOME"):
        return Path(os.environ["STUDIO_HOME"]).absolute()
    from pipeline.hosted import default_home  # a Space keeps its data under /data when it can

    return default_home().absolute()


def inside_home(path: str | Path) -> bool:
    """True when `path`, resolved (symlinks, '..'), is $STUDIO_HOME or below it."""
    return _inside(Path(path).expanduser().resolve(), studio_home().resolve())


def db_path() -> Path:
    return studio_home() / "studio.db"


def jobs_dir() -> Path:
    return studio_home() / "jobs"


def models_dir() -> Path:
    return studio_home() / "models"


def clones_dir() -> Path:
    return studio_home() / "clones"


def area_dir(area: str) -> Path:
    if area not in AREAS:
        raise UnsafeNameError(f"unknown storage area {area!r}; use one of {', '.join(AREAS)}")
    return studio_home() / area


def check_name(name: str, what: str = "name") -> str:
    """`name` if it is safe as one path component, else UnsafeNameError saying what is allowed."""
    name = name if isinstance(name, str) else ""
    if not NAME_RE.fullmatch(name) or ".." in name:
        raise UnsafeNameError(
            f"{what} name {name!r} is not allowed: use 1-100 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit (no '/', spaces or '..'), e.g. 'gdscript-sft'")
    return name


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def named_path(area: str, name: str, suffix: str = "") -> Path:
    """$STUDIO_HOME/<area>/<name><suffix>, refusing any name that could point elsewhere."""
    root = area_dir(area).resolve()
    path = (root / (check_name(name, area.rstrip("s")) + suffix)).resolve()
    if not _inside(path, root) or path == root:
        raise UnsafeNameError(f"{area} path for {name!r} would leave {root}")
    return path


def check_output_path(path: str | Path, what: str = "output") -> Path:
    """A path the user typed, resolved (symlinks and '..' followed), that the caller may write:
    the gate (pipeline.access) lets the owner write anywhere and others only inside $STUDIO_HOME."""
    from pipeline import access

    raw = str(path or "").strip()
    if not raw or "\x00" in raw:
        raise UnsafeNameError(f"{what} path is empty or not a path")
    resolved = Path(raw).expanduser().resolve()
    access.require(access.Cap.WRITE_DATA, access.Target(path=resolved, what=f"{what} to {raw}"))
    return resolved


class UserFileError(StudioError):
    """A file the user named cannot be read or written (missing, a folder, no permission)."""


def read_user_text(path: str | Path, what: str = "file") -> str:
    """The text of a file the user named (UTF-8), or a UserFileError saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserFileError(f"cannot read {what} {path}: {_why(exc)}") from None


def write_user_text(path: str | Path, text: str, what: str = "output") -> None:
    """Write `text` (UTF-8) to a file the user named, or raise a UserFileError saying why not."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserFileError(f"cannot write {what} {path}: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def server_path(raw: str | Path, what: str = "path") -> Path:
    """A server path someone wants read (a model folder, a local repo), resolved, after the gate
    allowed it: the owner reads any folder, others only inside $STUDIO_HOME, visitors none."""
    from pipeline import access

    text = str(raw or "").strip()
    if not text or "\x00" in text:
        raise UnsafeNameError(f"{what} is empty or not a path")
    resolved = Path(text).expanduser().resolve()
    access.require(access.Cap.READ_SERVER_PATH, access.Target(path=resolved, what=f"{what} {text}"))
    return resolved


def ensure_home() -> Path:
    """Create the data dirs, turning a permission problem into one clear message."""
    from pipeline.store import StoreError

    home = studio_home()
    try:
        for d in (home, jobs_dir(), models_dir(), clones_dir()):
            d.mkdir(parents=True, exist_ok=True)
        # A uniquely named probe: threads opening the store at once must not race on one file.
        with tempfile.NamedTemporaryFile(dir=home, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise StoreError(
            f"Data dir {home} is not writable ({exc.strerror}). "
            "Set STUDIO_HOME to a folder you can write to."
        ) from exc
    return home
