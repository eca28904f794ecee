"""The project's one error family.

Every expected failure is a named subclass of `StudioError` whose message says what happened and
what to do; the CLI prints it as one `error: …` line (exit 2), the UI as one warning, and neither
prints a traceback. A library error that a user's input can cause (a JSON file that does not
parse, a path that does not exist, a refused endpoint call) is turned into a `StudioError` where
the input is read, so it reaches the user the same way. Anything else reaching the top is a bug:
the CLI prints its traceback and says so in an `internal error: …` line (exit 1); the UI keeps the
traceback in the studio's log (pipeline.logfile) and shows a short message naming that file.

    Exception
    ├── StudioError: the user's to fix; its message is shown as is
    │   ├── StoreError (the database: corrupt, locked, not writable) → NotFoundError,
    │   │   ConflictError, DatasetDriftError
    │   ├── ConfigError (a setting out of range, an unknown key, a bad value; also a ValueError)
    │   ├── UnsafeNameError (also a ValueError), AccessDenied (also a PermissionError)
    │   └── one per stage: JobError, ModelError, FetchError, GitHubError, ExportError,
    │       ImportFileError, JsonlError, SuiteError, SuiteFormatError, SuiteFileError,
    │       ToolchainMissing, SandboxError, CodeExecutionDisabled, UnknownLanguageError, …
    └── ControlFlow: a signal between parts of one stage, caught inside it, never shown to the
        user: JobCancelled (pipeline.jobs), RequestFailed, NoChoices, RunStopped
        (pipeline.label.endpoint)

`ControlFlow` is not a `StudioError`, so an `except StudioError` that reports a user's mistake
never swallows a cancellation.
"""
from __future__ import annotations


class StudioError(Exception):
    """An expected failure with a message meant for the user."""


class ConfigError(StudioError, ValueError):
    """A job's settings are invalid; the message names the setting and the accepted values."""


class ControlFlow(Exception):
    """A signal raised and caught inside one stage (a cancelled job, a request given up on); it
    never reaches the user, and reaching the top would be a bug."""
