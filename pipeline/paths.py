"""Where the studio keeps its files: everything lives under $STUDIO_HOME (default ./studio_data)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def studio_home() -> Path:
    return Path(os.environ.get("STUDIO_HOME") or "studio_data").absolute()


def db_path() -> Path:
    return studio_home() / "studio.db"


def jobs_dir() -> Path:
    return studio_home() / "jobs"


def models_dir() -> Path:
    return studio_home() / "models"


def clones_dir() -> Path:
    return studio_home() / "clones"


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
