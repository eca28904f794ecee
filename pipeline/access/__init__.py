"""Who may do what: one table, one gate, asked by the pipeline operation itself.

    from pipeline import access
    access.require(access.Cap.PUSH_HUB, access.Target(path=folder, namespace="me", secret="HF_TOKEN"))

Every operation that reads a server path, writes data, spends money or compute, runs
model-written code, pushes to a hub or uses a server secret calls `require(capability, target)`
before it acts. The caller's principal is found, in this order: the scope a door opened
(`acting_as`: the UI opens one per event from the session's login, the CLI opens the owner's),
the job's starter (STUDIO_PRINCIPAL, set by pipeline.jobs for its child), else the owner on a
local studio and an anonymous visitor on a hosted one (a door that forgot to say who is
calling gets the least). One table (`TABLE`, shown on Settings and in docs/access.md) decides,
and the refusal (`AccessDenied`, a StudioError) reads the same in the UI and the CLI.

Principals: `owner` (a local studio, the CLI, a hosted login listed in STUDIO_OWNERS),
`user` (any other login of a hosted studio), `visitor` (no login: the public arena).

Targets carry what a decision needs: the resolved path (`pipeline.paths` is the one validator
that turns a name or a typed path into one), the hub namespace, the secret's name and the host
it would be sent to, and whether the sandbox would be weak.

Audit: sinks (store writes, job spawns, model loads, hub uploads, sandbox starts) call
`access.reached(cap)`; inside a door's scope a sink reached without its capability having been
asked is recorded in `scope.violations` (tests/access walks every door and fails on one).
Not protected: the owner's own choices (STUDIO_KEY_ENVS, STUDIO_HUB_NAMESPACES, STUDIO_OWNERS);
someone with a shell on the server.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from pipeline.errors import StudioError


class AccessDenied(StudioError, PermissionError):
    """The gate refused; the message names the capability, who asked and who can allow it."""


class Role(str, Enum):
    OWNER = "owner"
    USER = "user"
    VISITOR = "visitor"


class Cap(str, Enum):
    """The closed list of capabilities an operation can need."""
    READ_SERVER_PATH = "read a server path"
    WRITE_DATA = "write data"
    SPEND_MONEY = "spend money"
    SPEND_COMPUTE = "spend compute (train, generate)"
    RUN_CODE = "run model-written code"
    PUSH_HUB = "push to a hub"
    USE_SECRET = "use a server secret"
    ARENA = "chat and vote in the arena"
    MODERATE = "see and moderate arena votes"


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str = ""          # the login, or "" for an anonymous visitor
    session: str = ""       # the browser session (anonymous id for arena votes and limits)

    def __str__(self) -> str:
        return f"{self.role.value}" + (f" {self.name!r}" if self.name else "")

    def encode(self) -> str:
        return f"{self.role.value}:{self.name}:{self.session}"

    @classmethod
    def decode(cls, text: str) -> "Principal":
        role, _, rest = (text or "").partition(":")
        name, _, session = rest.partition(":")
        try:
            return cls(Role(role), name, session)
        except ValueError:
            return cls(Role.VISITOR)


OWNER = Principal(Role.OWNER, "owner")


@dataclass
class Target:
    path: Path | None = None          # resolved by pipeline.paths (None: no file involved)
    namespace: str | None = None      # hub namespace a push goes to
    secret: str | None = None         # name of the server env var that would be used
    host: str | None = None           # where that secret would be sent
    weak_sandbox: bool = False        # code would run without the full sandbox
    published: bool | None = None     # the arena model is one the owner published
    what: str = ""                    # for the message: "push gd-lora to me/gd"


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


def code_execution_flag(env=None) -> tuple[bool, str]:
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
}


def require_job(kind: str, params: dict | None = None) -> Principal:
    cap = JOB_CAPABILITIES.get(kind)
    if cap is None:
        raise AccessDenied(f"refused: job kind {kind!r} declares no capability in pipeline.access.JOB_CAPABILITIES")
    from pipeline import hosted as hosted_profile

    if kind in ("train", "quickstart") and hosted_profile.zero_gpu():
        raise AccessDenied(f"refused: {hosted_profile.ZERO_GPU_NO_TRAINING}")
    weak = bool((params or {}).get("allow_weak_sandbox"))
    if cap != Cap.WRITE_DATA:
        require(Cap.WRITE_DATA, Target(what=f"start a {kind} job"))   # every job writes its row
    return require(cap, Target(weak_sandbox=weak, what=f"start a {kind} job"))


def table_rows() -> list[list[str]]:
    """[capability, owner, user, visitor] as words, for Settings and the docs."""
    return [[cap.value] + [(TABLE[cap][role].__doc__ or "").strip() for role in Role] for cap in Cap]


def table_markdown() -> str:
    rows = ["| capability | owner | logged-in user | anonymous visitor |", "|---|---|---|---|"]
    rows += ["| " + " | ".join(r) + " |" for r in table_rows()]
    return "\n".join(rows)


# -- who is asking, and what was asked ---------------------------------------------------------
@dataclass
class Scope:
    """One door's call: who is asking, what the gate was asked, which sinks were reached unasked."""
    principal: Principal
    asked: list = field(default_factory=list)        # (capability, target, allowed)
    violations: list = field(default_factory=list)   # capabilities reached without asking
    housekeeping: int = 0                            # >0: the studio's own upkeep, not the caller's

    def asked_for(self, cap: Cap) -> bool:
        return any(c == cap for c, _, _ in self.asked) or self.covered(cap)

    def allowed(self, cap: Cap) -> bool:
        """`cap` was allowed (at least once, for a target without a path) or is covered."""
        return any(c == cap and ok and (t is None or t.path is None) for c, t, ok in self.asked) \
            or self.covered(cap)

    def covered(self, cap: Cap) -> bool:
        """Another capability allowed in this call covers `cap` (COVERS); never the same one
        again, whose new target must be decided on its own."""
        return any(cap in COVERS.get(c, ()) for c, _, ok in self.asked if ok)


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("studio_access_scope", default=None)
_recorder: list | None = None   # tests: every Scope opened, to inspect after driving a door


def default_principal(env=None) -> Principal:
    env = os.environ if env is None else env
    if env.get("STUDIO_PRINCIPAL"):
        return Principal.decode(env["STUDIO_PRINCIPAL"])
    return Principal(Role.VISITOR) if hosted(env) else OWNER


def principal_for_login(username: str | None, session: str = "", env=None) -> Principal:
    """The principal of a UI session: local → owner; hosted → owner/user by login, else visitor."""
    if not hosted(env):
        return Principal(Role.OWNER, username or "owner", session)
    if username and username in owners(env):
        return Principal(Role.OWNER, username, session)
    if username:
        return Principal(Role.USER, username, session)
    return Principal(Role.VISITOR, "", session)


def current() -> Principal:
    scope = _scope.get()
    return scope.principal if scope else default_principal()


def scope() -> Scope | None:
    return _scope.get()


@contextlib.contextmanager
def acting_as(principal: Principal):
    """Open a door's scope: everything called inside is asked for as `principal`."""
    s = Scope(principal)
    if _recorder is not None:
        _recorder.append(s)
    token = _scope.set(s)
    try:
        yield s
    finally:
        _scope.reset(token)


def opened(s: Scope) -> Scope:
    """Register a scope a door made itself (a streaming handler's, entered step by step)."""
    if _recorder is not None:
        _recorder.append(s)
    return s


def enter(s: Scope):
    return _scope.set(s)


def leave(token) -> None:
    _scope.reset(token)


def decide(principal: Principal, cap: Cap, target: Target | None = None, env=None) -> str | None:
    """None when `principal` may use `cap` on `target`, else the reason (no side effects)."""
    target = target or Target()
    if not hosted(env) and principal.role == Role.OWNER:
        # Local studio: still bound secrets and the code-execution switch (the owner set them).
        if cap in (Cap.USE_SECRET, Cap.RUN_CODE, Cap.PUSH_HUB):
            return TABLE[cap][Role.OWNER](principal, target, os.environ if env is None else env)
        return None
    return TABLE[cap][principal.role](principal, target, os.environ if env is None else env)


def require(cap: Cap, target: Target | None = None, principal: Principal | None = None) -> Principal:
    """The gate. Returns the principal allowed; raises AccessDenied with who/what/why."""
    principal = principal or current()
    reason = decide(principal, cap, target)
    s = _scope.get()
    if reason and s is not None and s.principal == principal and s.covered(cap):
        reason = None   # covered by what this call was already allowed (COVERS)
    if s is not None:
        s.asked.append((cap, target, reason is None))
    if reason:
        what = f" ({target.what})" if target and target.what else ""
        raise AccessDenied(f"refused: {cap.value}{what} for the {principal.role.value}: {reason}")
    return principal


def allowed(cap: Cap, target: Target | None = None, principal: Principal | None = None) -> bool:
    return decide(principal or current(), cap, target) is None


def reached(cap: Cap) -> None:
    """A sink calls this: inside a door's scope, reaching it unasked is a recorded violation."""
    s = _scope.get()
    if s is not None and not s.housekeeping and not s.asked_for(cap):
        s.violations.append(cap)


def require_write(what: str) -> None:
    """The store's backstop: a write asks for WRITE_DATA unless this call already has it (or is
    the studio's upkeep). Outside any door's scope the default principal decides."""
    s = _scope.get()
    if s is not None and (s.housekeeping or s.allowed(Cap.WRITE_DATA)):
        return
    if s is None and not hosted():
        return   # a local studio, a script or a test: the owner, no scope to record
    require(Cap.WRITE_DATA, Target(what=what))


@contextlib.contextmanager
def housekeeping():
    """The studio's own upkeep (migrations, marking a dead job interrupted, the app's start):
    writes nobody asked for and nobody could steer, so neither the gate nor the audit applies.
    Outside any door it acts as the owner (the server itself)."""
    s = _scope.get()
    if s is None:
        with acting_as(OWNER) as s:
            s.housekeeping += 1
            yield
        return
    s.housekeeping += 1
    try:
        yield
    finally:
        s.housekeeping -= 1


@contextlib.contextmanager
def recording():
    """Tests: collect every scope opened while the block runs."""
    global _recorder
    previous, _recorder = _recorder, []
    try:
        yield _recorder
    finally:
        _recorder = previous
