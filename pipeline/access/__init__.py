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
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.access.principals import OWNER, AccessDenied, Cap, Principal, Role, Target
from pipeline.access.rules import (
    COVERS,
    JOB_CAPABILITIES,
    TABLE,
    code_execution_flag,
    hosted,
    key_bindings,
    names,
    owners,
    table_markdown,
    table_rows,
)

__all__ = ["OWNER", "AccessDenied", "COVERS", "Cap", "JOB_CAPABILITIES", "Path", "Principal", "Role", "Scope",
           "TABLE", "Target", "acting_as", "allowed", "code_execution_flag", "current", "decide",
           "default_principal", "hosted", "housekeeping", "key_bindings", "names", "owners",
           "principal_for_login", "reached", "recording", "require", "require_job", "require_write", "scope",
           "table_markdown", "table_rows"]


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
