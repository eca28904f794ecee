"""The project's one error family.

Every expected failure is a named subclass of `StudioError` whose message says what happened and
what to do; the CLI prints it as one `error: …` line (exit 2), the UI as one message, and neither
prints a traceback. Anything else reaching the top is a bug and keeps its traceback.

    StudioError
    ├── StoreError (the database: corrupt, locked, not writable) → NotFoundError, ConflictError
    ├── ConfigError (a setting out of range, an unknown key, a bad value; also a ValueError)
    └── one per stage: JobError, ModelError, FetchError, GitHubError, ExportError, ImportFileError,
        SuiteError, SuiteFormatError, ToolchainMissing, SandboxError, CodeExecutionDisabled, …
"""
from __future__ import annotations


class StudioError(Exception):
    """An expected failure with a message meant for the user."""


class ConfigError(StudioError, ValueError):
    """A job's settings are invalid; the message names the setting and the accepted values."""

    config: str | None = None  # the config class's name, set by pipeline.config.check_limits
