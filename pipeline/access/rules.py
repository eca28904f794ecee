"""The role x capability table: one rule per cell, each a function (principal, target, env) that
returns None when allowed or the reason it is not; its docstring is the cell's words on Settings
and in docs/access.md. Also what the owner sets in the environment (STUDIO_OWNERS,
STUDIO_KEY_ENVS, STUDIO_HUB_NAMESPACES, STUDIO_ALLOW_CODE_EXECUTION) and each job kind's
capability."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pipeline.access.principals import Cap, Role


# -- the environment the owner sets ----------------------------------------------------------
def hosted(env=None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("SPACE_ID")) or (env.get("STUDIO_HOSTED") or "").strip() == "1"


def names(variable: str, env=None) -> list[str]:
    env = os.environ if env is None else env
    return [n.strip() for n in re.split(r"[,\s]+", env.get(variable) or "") if n.strip()]


def owners(env=None) -> list[str]:
    """Hosted logins that act as the owner (STUDIO_OWNERS); nobody else touches the server."""
    return names("STUDIO_OWNERS", env)


def key_bindings(env=None) -> dict[str, str | None]:
    """STUDIO_KEY_ENVS=OPENAI_API_KEY=api.openai.com,OTHER=host: secret name → the one host it may
    be sent to (None for a bare name: any host, which only a local studio accepts)."""
    out: dict[str, str | None] = {}
    for item in names("STUDIO_KEY_ENVS", env):
        name, sep, host = item.partition("=")
        out[name.strip()] = (host.strip().lower() or None) if sep else None
    return out


def code_execution_flag(env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(on, why) for STUDIO_ALLOW_CODE_EXECUTION: on locally unless switched off; off hosted
    unless the owner switched it on."""
    env = os.environ if env is None else env
    flag = (env.get("STUDIO_ALLOW_CODE_EXECUTION") or "").strip().lower()
    yes = flag in ("1", "true", "yes", "on")
    if hosted(env):
        if yes:
            return True, "enabled on this hosted studio by STUDIO_ALLOW_CODE_EXECUTION=1"
        return False, ("Running model-written code is disabled on this hosted studio: the owner can set the "
                       "secret/variable STUDIO_ALLOW_CODE_EXECUTION=1 to enable it.")
    if flag and not yes:
        return False, (f"Running model-written code is disabled by STUDIO_ALLOW_CODE_EXECUTION={flag}; "
                       "unset it or set it to 1.")
    return True, "enabled (local mode)"


# -- the table ---------------------------------------------------------------------------------
# A rule is a function (principal, target, env) → None when allowed, else the reason it is not.
def _yes(p, t, env):
    return None


def _no(p, t, env):
    return "not allowed for this role"


def _inside_home(p, t, env):
    from pipeline.paths import inside_home

    if t.path is not None and not inside_home(t.path):
        return (f"{t.path} is a folder of the server outside the studio's data folder; only the owner "
                "may use server folders")
    return None


def _secret_bound(p, t, env):
    if not t.secret:
        return None
    bindings = key_bindings(env)
    if t.secret not in bindings:
        if not hosted(env):
            return None  # a local studio: the owner's own machine and variables
        return (f"the server's variable {t.secret!r} is not bound to a host; the owner binds it in "
                f"STUDIO_KEY_ENVS as {t.secret}=host (paste your own key for this session instead)")
    host = bindings[t.secret]
    if host is None:
        if hosted(env):
            return (f"{t.secret!r} is listed in STUDIO_KEY_ENVS without a host; on a hosted studio write "
                    f"{t.secret}=api.example.com so it is only ever sent there")
        return None
    if (t.host or "").lower() != host:
        return f"{t.secret!r} may only be sent to {host}, not to {t.host or 'this endpoint'}"
    return None


def _owner_namespace_or_own_token(p, t, env):
    if t.secret is None:
        return _inside_home(p, t, env) if p.role != Role.OWNER else None  # the session's own token
    if p.role != Role.OWNER:
        return ("pushes with the server's token are the owner's; paste your own Hugging Face token "
                "for this session")
    allowed = names("STUDIO_HUB_NAMESPACES", env)
    if not allowed and not hosted(env):
        return None
    if t.namespace not in allowed:
        return (f"the server's token pushes only to the owner's namespaces "
                f"({', '.join(allowed) if allowed else 'none set: the owner lists them in STUDIO_HUB_NAMESPACES'}), "
                f"not to the namespace {t.namespace!r}; paste your own token to push elsewhere")
    return None


def _push_user(p, t, env):
    return _owner_namespace_or_own_token(p, t, env)


def _code_execution(p, t, env):
    on, why = code_execution_flag(env)
    if not on:
        return why
    if t.weak_sandbox and p.role != Role.OWNER:
        return "running code without the full sandbox (allow weak sandbox) is the owner's decision alone"
    return None


def _published(p, t, env):
    if t.published is False:
        return "this model is not published to the arena"
    return None


def _own_key(p, t, env):
    """with a key pasted for the session"""
    if t.secret:
        return f"spending with the server's key {t.secret!r} is the owner's; paste your own key for this session"
    return None


def _both(*rules):
    def rule(p, t, env):
        return next((r for r in (f(p, t, env) for f in rules) if r), None)
    rule.__doc__ = " and ".join(f.__doc__ or f.__name__ for f in rules)
    return rule


_yes.__doc__, _no.__doc__ = "yes", "no"
_inside_home.__doc__ = "inside the data folder"
_secret_bound.__doc__ = "only to the host the owner bound it to"
_owner_namespace_or_own_token.__doc__ = "server token: the owner's namespaces only; or a pasted token"
_push_user.__doc__ = "only with a token pasted for the session, folders inside the data folder"
_code_execution.__doc__ = "if STUDIO_ALLOW_CODE_EXECUTION; weak sandbox: owner only"
_published.__doc__ = "published models, within the visitor limits"

TABLE = {
    Cap.READ_SERVER_PATH: {Role.OWNER: _yes, Role.USER: _inside_home, Role.VISITOR: _no},
    Cap.WRITE_DATA:       {Role.OWNER: _yes, Role.USER: _inside_home, Role.VISITOR: _no},
    Cap.SPEND_MONEY:      {Role.OWNER: _yes, Role.USER: _own_key, Role.VISITOR: _no},
    Cap.SPEND_COMPUTE:    {Role.OWNER: _yes, Role.USER: _yes, Role.VISITOR: _no},
    Cap.RUN_CODE:         {Role.OWNER: _code_execution, Role.USER: _code_execution, Role.VISITOR: _no},
    Cap.PUSH_HUB:         {Role.OWNER: _owner_namespace_or_own_token, Role.USER: _push_user,
                           Role.VISITOR: _no},
    Cap.USE_SECRET:       {Role.OWNER: _secret_bound, Role.USER: _no, Role.VISITOR: _no},
    Cap.ARENA:            {Role.OWNER: _yes, Role.USER: _published, Role.VISITOR: _published},
    Cap.MODERATE:         {Role.OWNER: _yes, Role.USER: _no, Role.VISITOR: _no},
}
# What asking for one capability also covers at the sinks (an arena vote writes a row).
# Within one door's call, an allowed ask of the key also allows these (a visitor's arena message
# loads the published model the gate just approved and stores the answer).
COVERS = {Cap.ARENA: {Cap.WRITE_DATA, Cap.SPEND_COMPUTE, Cap.READ_SERVER_PATH}, Cap.MODERATE: {Cap.WRITE_DATA},
          Cap.PUSH_HUB: {Cap.READ_SERVER_PATH}, Cap.RUN_CODE: {Cap.SPEND_COMPUTE},
          Cap.SPEND_MONEY: {Cap.SPEND_COMPUTE}}


# What starting a job of each kind needs (pipeline.jobs.submit asks; a kind missing here is
# refused, so a new job kind cannot forget the gate). The job's child acts as its starter.
JOB_CAPABILITIES = {
    "clean": Cap.WRITE_DATA, "curate": Cap.WRITE_DATA, "import_pairs": Cap.WRITE_DATA,
    "export_dataset": Cap.WRITE_DATA, "prepare_model": Cap.WRITE_DATA,
    "label": Cap.SPEND_COMPUTE, "label_batch": Cap.SPEND_COMPUTE, "judge": Cap.SPEND_COMPUTE,
    "quickstart": Cap.SPEND_COMPUTE, "train": Cap.SPEND_COMPUTE, "eval_generate": Cap.SPEND_COMPUTE,
    "eval_execute": Cap.RUN_CODE,
    # generation and scoring; its doctests ask RUN_CODE themselves where they run (the sandbox)
    "owncode_eval": Cap.SPEND_COMPUTE,
    "export_gguf": Cap.SPEND_COMPUTE,       # merge, convert, quantize: compute; its files stay under models/
}


def table_rows() -> list[list[str]]:
    """[capability, owner, user, visitor] as words, for Settings and the docs."""
    return [[cap.value] + [(TABLE[cap][role].__doc__ or "").strip() for role in Role] for cap in Cap]


def table_markdown() -> str:
    rows = ["| capability | owner | logged-in user | anonymous visitor |", "|---|---|---|---|"]
    rows += ["| " + " | ".join(r) + " |" for r in table_rows()]
    return "\n".join(rows)
