"""The hosted profile: how the studio is served to the public (SPACE_ID or STUDIO_HOSTED=1).

Who may do what is not decided here: every operation asks the one gate, pipeline.access, whose
table depends on the principal (owner / logged-in user / anonymous visitor). This module keeps
what only the server start needs:

- the app refuses to start without STUDIO_AUTH=user:password[,user2:password2] (a login page);
  logins listed in STUDIO_OWNERS act as the owner, the others as users;
- STUDIO_PUBLIC_ARENA=1 also serves the public arena at / to anonymous visitors (the studio
  itself moves behind the login at /studio);
- on a Space the data folder defaults to /data/codetune-studio when persistent storage is
  mounted (/data writable), and Settings warns when it is not (`data_folder_warning`).

The Settings tab shows the settings in force (names only, never secrets).
Not protected: denial of service by a logged-in user (the arena's visitors have limits).
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.access import AccessDenied, code_execution_flag, key_bindings, names, owners
from pipeline.access import hosted as enabled
from pipeline.errors import StudioError

HostedRefusal = AccessDenied   # older name for the gate's refusal
SPACE_SUBFOLDER = "codetune-studio"


class HostedConfigError(StudioError):
    """The hosted studio is not configured to start safely (e.g. no STUDIO_AUTH)."""


def auth_pairs(env=None) -> list[tuple[str, str]]:
    """STUDIO_AUTH=user:pass[,user2:pass2] as Gradio's `auth` list (empty when unset or malformed)."""
    env = os.environ if env is None else env
    pairs = []
    for item in (env.get("STUDIO_AUTH") or "").split(","):
        user, sep, password = item.strip().partition(":")
        if sep and user and password:
            pairs.append((user, password))
    return pairs


def public_arena(env=None) -> bool:
    env = os.environ if env is None else env
    return enabled(env) and (env.get("STUDIO_PUBLIC_ARENA") or "").strip() == "1"


def check_startup(env=None) -> None:
    """Raise HostedConfigError when the hosted studio would serve without a login."""
    if enabled(env) and not auth_pairs(env):
        raise HostedConfigError(
            "the hosted studio (SPACE_ID or STUDIO_HOSTED=1) will not start without a login: set the secret "
            "STUDIO_AUTH=user:password (several: user1:pw1,user2:pw2) in the Space settings or the environment")


def space_storage(env=None) -> Path | None:
    """The Space's persistent storage (/data) when it is mounted and writable, else None."""
    env = os.environ if env is None else env
    if not env.get("SPACE_ID"):
        return None
    data = Path(env.get("STUDIO_SPACE_STORAGE") or "/data")  # where Spaces mount persistent storage
    return data if data.is_dir() and os.access(data, os.W_OK) else None


def default_home(env=None) -> Path:
    """STUDIO_HOME's default: /data/codetune-studio on a Space with persistent storage, else ./studio_data."""
    storage = space_storage(env)
    return storage / SPACE_SUBFOLDER if storage else Path("studio_data")


def data_folder_warning(env=None) -> str | None:
    """A Space whose data would not survive a restart says so (app banner and Settings)."""
    env = os.environ if env is None else env
    if not env.get("SPACE_ID") or env.get("STUDIO_HOME") or space_storage(env):
        return None
    return ("This Space has no persistent storage: runs, datasets, votes and models are lost at every restart. "
            "Enable persistent storage in the Space settings (mounted at /data) or set STUDIO_HOME to a "
            "folder that survives restarts.")


def zero_gpu(env=None) -> bool:
    """A Space on ZeroGPU hardware: the `spaces` package is installed (generation then runs
    under its GPU decorator, see studio.common.bind_principals) and training is off."""
    import importlib.util

    env = os.environ if env is None else env
    return bool(env.get("SPACE_ID")) and importlib.util.find_spec("spaces") is not None


ZERO_GPU_NO_TRAINING = ("training is off on ZeroGPU hardware: a GPU is lent only for the span of one call "
                        "(about a minute), and a run needs it for hours; train on a machine or Space with "
                        "a dedicated GPU and publish the checkpoint here")


def code_execution_allowed(env=None) -> tuple[bool, str]:
    return code_execution_flag(env)


def summary(env=None) -> dict:
    """The hosted settings in force, for Settings and the CLI (names only, never secrets)."""
    env = os.environ if env is None else env
    return {"hosted": enabled(env), "login_users": [u for u, _ in auth_pairs(env)], "owners": owners(env),
            "public_arena": public_arena(env),
            "key_envs_allowed": [f"{k} → {h or 'any host (local only)'}" for k, h in key_bindings(env).items()],
            "hub_namespaces_allowed": names("STUDIO_HUB_NAMESPACES", env),
            "code_execution": code_execution_flag(env)[0], "data_warning": data_folder_warning(env),
            "zero_gpu": zero_gpu(env)}
