"""Who asks (Principal: owner, user, visitor), for what (Cap, the closed list) and on what
(Target: the resolved path, the hub namespace, the secret and its host); the gate's refusal."""
from __future__ import annotations

from dataclasses import dataclass
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
    def decode(cls, text: str) -> Principal:
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
