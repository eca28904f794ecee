"""The hosted profile: what changes when the studio is served to the public.

On under SPACE_ID (a Hugging Face Space) or STUDIO_HOSTED=1. Then, and only then:

- the app refuses to start without STUDIO_AUTH=user:password[,user2:password2] (a login page);
- visitors have no server folders: add-local, server-side paths and exports outside
  $STUDIO_HOME are refused (`refuse_server_folder`, pipeline.paths.check_output_path);
- an endpoint key comes from the visitor (pasted for their session, never stored) or from an
  environment variable the owner listed in STUDIO_KEY_ENVS (`check_key_env`): a visitor cannot
  register a model that reads HF_TOKEN and have the server send it to their URL;
- hub pushes go only to namespaces the owner listed in STUDIO_HUB_NAMESPACES (`check_hub_repo`);
- running model-written code and the compile level of the validity check stay off unless the
  owner sets STUDIO_ALLOW_CODE_EXECUTION=1 (`code_execution_allowed`, which the sandbox asks).

The Settings tab shows the hosted settings in force (names only, never secrets).

Not protected: what the owner's own allow-lists permit; denial of service by a logged-in user.
"""
from __future__ import annotations

import os
import re

from pipeline.errors import StudioError


class HostedRefusal(StudioError):
    """Something a visitor of the hosted studio may not do; the message says who can allow it."""


class HostedConfigError(StudioError):
    """The hosted studio is not configured to start safely (e.g. no STUDIO_AUTH)."""


def enabled(env=None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("SPACE_ID")) or (env.get("STUDIO_HOSTED") or "").strip() == "1"


def _names(variable: str, env=None) -> list[str]:
    env = os.environ if env is None else env
    return [n.strip() for n in re.split(r"[,\s]+", env.get(variable) or "") if n.strip()]


def auth_pairs(env=None) -> list[tuple[str, str]]:
    """STUDIO_AUTH=user:pass[,user2:pass2] as Gradio's `auth` list (empty when unset or malformed)."""
    env = os.environ if env is None else env
    pairs = []
    for item in (env.get("STUDIO_AUTH") or "").split(","):
        user, sep, password = item.strip().partition(":")
        if sep and user and password:
            pairs.append((user, password))
    return pairs


def check_startup(env=None) -> None:
    """Raise HostedConfigError when the hosted studio would serve without a login."""
    if enabled(env) and not auth_pairs(env):
        raise HostedConfigError(
            "the hosted studio (SPACE_ID or STUDIO_HOSTED=1) will not start without a login: set the secret "
            "STUDIO_AUTH=user:password (several: user1:pw1,user2:pw2) in the Space settings or the environment")


def check_key_env(name: str | None, env=None) -> None:
    """Hosted: an endpoint's key may only come from an env var the owner listed in STUDIO_KEY_ENVS."""
    if not name or not enabled(env):
        return
    allowed = _names("STUDIO_KEY_ENVS", env)
    if name not in allowed:
        raise HostedRefusal(
            f"this hosted studio does not let a model read the server's environment variable {name!r}: paste your "
            f"own key for this session instead" + (f" (variables the owner allows: {', '.join(allowed)})"
                                                   if allowed else " (the owner can allow names in STUDIO_KEY_ENVS)"))


def check_hub_repo(repo_id: str, env=None) -> None:
    """Hosted: a push may only go to a namespace the owner listed in STUDIO_HUB_NAMESPACES."""
    if not enabled(env):
        return
    allowed = _names("STUDIO_HUB_NAMESPACES", env)
    namespace = (repo_id or "").strip().partition("/")[0]
    if namespace not in allowed:
        raise HostedRefusal(
            f"this hosted studio pushes only to the owner's namespaces "
            f"({', '.join(allowed) if allowed else 'none set: the owner lists them in STUDIO_HUB_NAMESPACES'}), "
            f"not to {repo_id!r}")


def refuse_server_folder(what: str, env=None) -> None:
    """Hosted: visitors have no folders on the server (add-local, server paths)."""
    if enabled(env):
        raise HostedRefusal(f"{what} reads folders of the server, which the hosted studio does not allow; "
                            "upload files or use a GitHub repository instead")


def check_model_paths(spec: dict, env=None) -> None:
    """Hosted: a local model (or an adapter's base) must live under $STUDIO_HOME (trained
    checkpoints, the embedded model), never in another folder of the server."""
    if not enabled(env) or spec.get("kind") not in ("local", "gguf"):
        return
    from pathlib import Path

    from pipeline.paths import studio_home

    home = studio_home().resolve()
    for field, value in (("path", spec.get("path")), ("base", spec.get("base"))):
        if not value or (field == "base" and not str(value).startswith(("/", ".", "~"))):
            continue  # a base given as a hub id is not a folder
        path = Path(str(value)).expanduser().resolve()
        if path != home and home not in path.parents:
            raise HostedRefusal(f"model {spec.get('name')!r} points at {value}, a folder of the server outside the "
                                "studio's data; the hosted studio loads only its own checkpoints")


def code_execution_allowed(env=None) -> tuple[bool, str]:
    """(allowed, why) for running model-written code here: on in local mode unless
    STUDIO_ALLOW_CODE_EXECUTION says otherwise; off on a hosted studio unless the owner allows it.
    The sandbox, the validity compile level and the UI all ask this one rule."""
    env = os.environ if env is None else env
    flag = (env.get("STUDIO_ALLOW_CODE_EXECUTION") or "").strip().lower()
    if enabled(env):
        if flag in ("1", "true", "yes", "on"):
            return True, "enabled on this hosted studio by STUDIO_ALLOW_CODE_EXECUTION=1"
        return False, ("Running model-written code is disabled on this hosted studio: the owner can set the "
                       "secret/variable STUDIO_ALLOW_CODE_EXECUTION=1 to enable it.")
    if flag and flag not in ("1", "true", "yes", "on"):
        return False, (f"Running model-written code is disabled by STUDIO_ALLOW_CODE_EXECUTION="
                       f"{flag}; unset it or set it to 1.")
    return True, "enabled (local mode)"


def summary(env=None) -> dict:
    """The hosted settings in force, for Settings and the CLI (names only, never secrets)."""
    env = os.environ if env is None else env
    return {"hosted": enabled(env), "login_users": [u for u, _ in auth_pairs(env)],
            "key_envs_allowed": _names("STUDIO_KEY_ENVS", env),
            "hub_namespaces_allowed": _names("STUDIO_HUB_NAMESPACES", env),
            "code_execution": code_execution_allowed(env)[0]}
