"""The studio's log file, $STUDIO_HOME/logs/studio.log, where a bug's traceback is kept.

The `studio` logger (and its children, such as `studio.cli`) writes there once `attach()` has run:
the studio server calls it at startup, the UI's error wrapper and the CLI before recording an
internal error, so the file always follows the current $STUDIO_HOME. A traceback holds the code's
lines and the exception's message, never local variables, so a key held in a variable does not
reach the file. When the folder cannot be written (a read-only Space), nothing is attached and
`attach()` returns None; the caller then says "the server log" instead of a path.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pipeline.paths import studio_home

LOGGER = "studio"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_path() -> Path:
    """Where the log file is for the current $STUDIO_HOME."""
    return studio_home() / "logs" / "studio.log"


def attach() -> Path | None:
    """Make the `studio` logger write to `log_path()` (once per path; a handler for an earlier
    $STUDIO_HOME is replaced) and return that path, or None when the file cannot be opened."""
    logger = logging.getLogger(LOGGER)
    path = log_path()
    for handler in list(logger.handlers):
        if getattr(handler, "studio_log", False):
            if Path(handler.baseFilename) == path and path.exists():
                return path
            logger.removeHandler(handler)
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.studio_log = True
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)   # refusals are logged at INFO: one line each, no traceback
    return path


def record_bug(exc: BaseException, where: str, logger_name: str = LOGGER) -> Path | None:
    """Write `exc`'s traceback to the log file, saying where it happened (a handler's or a
    command's name); return the file's path (None when it cannot be written)."""
    path = attach()
    logging.getLogger(logger_name).error("internal error in %s", where, exc_info=exc)
    return path


def where_logged(path: Path | None) -> str:
    """How a message names the log: its path, or the server log when there is no file."""
    return str(path) if path is not None else "the server's log"
