"""The project's one error family.

Every expected failure is a named subclass of `StudioError` whose message says what happened and
what to do; the CLI prints it as one `error: …` line (exit 2), the UI as one warning, and neither
prints a traceback. A library error that a user's input can cause (a JSON file that does not
parse, a path that does not exist, a refused endpoint call) is turned into a `StudioError` where
the input is read, so it reaches the user the same way. Anything else reaching the top is a bug:
the CLI prints its traceback and says so in an `internal error: …` line (exit 1); the UI keeps the
traceback in the studio's log file and shows a short message naming that file.

    Exception
    ├── StudioError: the user's to fix; its message is shown as is
    │   ├── StoreError (the database: corrupt, locked, not writable) → NotFoundError,
    │   │   ConflictError, DatasetDriftError
    │   ├── ConfigError (a setting out of range, an unknown key, a bad value; also a ValueError)
    │   ├── UnsafeNameError (also a ValueError), AccessDenied (also a PermissionError),
    │   │   UserFileError (a file the user named cannot be read or written)
    │   └── one per stage: JobError, ModelError, FetchError, GitHubError, ExportError,
    │       ImportFileError, JsonlError, SuiteError, SuiteFormatError, SuiteFileError,
    │       ToolchainMissing, SandboxError, CodeExecutionDisabled, UnknownLanguageError, …
    └── ControlFlow: a signal between parts of one stage, caught inside it, never shown to the
        user: JobCancelled (pipeline.jobs), RequestFailed, NoChoices, RunStopped
        (pipeline.label.endpoint)

`ControlFlow` is not a `StudioError`, so an `except StudioError` that reports a user's mistake
never swallows a cancellation.

The log file is $STUDIO_HOME/logs/studio.log: the `studio` logger (and its children, such as
`studio.cli`) writes there once `attach_log()` has run; the studio server calls it at startup, and
`record_bug` before writing a traceback, so the file follows the current $STUDIO_HOME. A traceback
holds the code's lines and the exception's message, never local variables, so a key held in a
variable does not reach the file. When the folder cannot be written (a read-only Space), nothing
is attached and the message says "the server's log" instead of a path.
"""
from __future__ import annotations

import logging
from pathlib import Path

LOGGER = "studio"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class StudioError(Exception):
    """An expected failure with a message meant for the user."""


class ConfigError(StudioError, ValueError):
    """A job's settings are invalid; the message names the setting and the accepted values."""

    config: str | None = None  # the config class's name, set by pipeline.config.check_limits


class ControlFlow(Exception):
    """A signal raised and caught inside one stage (a cancelled job, a request given up on); it
    never reaches the user, and reaching the top would be a bug."""


def log_path() -> Path:
    """Where the studio's log file is for the current $STUDIO_HOME."""
    from pipeline.paths import studio_home  # paths imports this module

    return studio_home() / "logs" / "studio.log"


def attach_log() -> Path | None:
    """Make the `studio` logger write to `log_path()` (once per path; a handler for an earlier
    $STUDIO_HOME is replaced) and return that path, or None when the file cannot be opened."""
    logger = logging.getLogger(LOGGER)
    path = log_path()
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler) and getattr(handler, "studio_log", False):
            if Path(handler.baseFilename) == path and path.exists():
                return path
            logger.removeHandler(handler)
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.studio_log = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)   # refusals are logged at INFO: one line each, no traceback
    return path


def record_bug(exc: BaseException, where: str, logger_name: str = LOGGER) -> Path | None:
    """Write `exc`'s traceback to the log file, saying where it happened (a handler's or a
    command's name); return the file's path (None when it cannot be written)."""
    path = attach_log()
    logging.getLogger(logger_name).error("internal error in %s", where, exc_info=exc)
    return path


def where_logged(path: Path | None) -> str:
    """How a message names the log: its path, or the server's log when there is no file."""
    return str(path) if path is not None else "the server's log"
