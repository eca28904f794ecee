"""Python programs in the sandbox, as two processes that share no memory: the solution runs in
one (`solution_server`), the tests in the other (`test_client`), and the tests reach the
solution's functions through proxies that send each call over a socket.

Why two: a verdict decided inside the process that ran the solution can always be forged by it
(it can read any nonce from its caller's frame or memory, patch the harness, exit early). Here
the pass report is written only by the test process, which never runs model-written code, is not
dumpable (so the same uid cannot ptrace it or read /proc/PID/mem), and gets the run's nonce
only after the solution process was forked. Values cross the socket as tagged JSON: plain data
(None, bool, int, float, str, bytes, list, tuple, set, dict, complex) is compared in the test
process with its own `==`; anything else (class instances, generators) stays in the solution
process behind a handle, and operations on it are asked of the solution (so an object whose
`__eq__` always says True is never equal to plain data; two of the solution's own objects are
compared by the solution).

The test sees the task's own definitions (the prompt, run in the test process) and the
solution's entry point, not the solution's other top-level names (`test_names`), so a solution
cannot change what the test's names mean by defining its own `abs` or a prompt helper.

Imported by worker.py (stdlib only). Not protected: kernel exploits; a solution that changes its
arguments in place is not seen by the tests (they hold copies).
"""
from __future__ import annotations

import builtins
import ctypes
import json
import os
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

RESULT_LIMIT = 60_000
MESSAGE_LIMIT = 64 << 20
FIELD, RECORD = "\x1f", "\x1e"
PR_SET_DUMPABLE = 4
OPERATORS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__len__", "__iter__", "__next__",
             "__getitem__", "__contains__", "__repr__", "__str__", "__hash__", "__bool__", "__int__",
             "__float__", "__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__",
             "__neg__", "__abs__", "__setitem__", "__delitem__"}


class _Channel:
    """Length-prefixed JSON messages over one end of a socketpair."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)

    def send(self, message: object) -> None:
        data = json.dumps(message, allow_nan=True).encode()
        self.sock.sendall(len(data).to_bytes(8, "big") + data)

    def recv(self) -> Any:
        size = int.from_bytes(self._exactly(8), "big")
        if size > MESSAGE_LIMIT:
            raise ConnectionError(f"the solution sent a {size}-byte message (limit {MESSAGE_LIMIT})")
        return json.loads(self._exactly(size))

    def _exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise ConnectionError("the solution's process ended")
            buf += chunk
        return buf


# -- the solution side (runs model-written code) ----------------------------------------------
def solution_server(code: str, fd: int) -> None:
    channel = _Channel(fd)
    refs: dict[int, Any] = {}

    def encode(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        kinds: dict[type, str] = {list: "l", tuple: "t", set: "s", frozenset: "fs"}
        if type(value) in kinds:
            return {kinds[type(value)]: [encode(v) for v in value]}
        if type(value) is dict:
            return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
        if type(value) is bytes:
            return {"b": value.hex()}
        if type(value) is complex:
            return {"c": [value.real, value.imag]}
        refs[id(value)] = value
        return {"r": id(value), "callable": callable(value), "type": type(value).__name__}

    def decode(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        (tag, inner), = [(k, v) for k, v in value.items() if k in ("l", "t", "s", "fs", "d", "b", "c", "r")]
        if tag == "r":
            return refs[inner]
        if tag == "d":
            return {decode(k): decode(v) for k, v in inner}
        if tag == "b":
            return bytes.fromhex(inner)
        if tag == "c":
            return complex(*inner)
        return {"l": list, "t": tuple, "s": set, "fs": frozenset}[tag](decode(v) for v in inner)

    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        exec(compile(code, "<solution>", "exec"), namespace)
        names = {k: encode(v) for k, v in list(namespace.items()) if not k.startswith("__")
                 and type(v) is not type(sys)}
        channel.send({"names": names})
    except BaseException as exc:
        channel.send({"setup_error": _describe(exc, "the solution raised before the tests ran")})
        os._exit(1)
    while True:
        try:
            request = channel.recv()
        except ConnectionError:
            os._exit(0)
        try:
            target = refs[request["ref"]]
            args = [decode(a) for a in request.get("args", [])]
            kwargs = {k: decode(v) for k, v in request.get("kwargs", {}).items()}
            op = request["op"]
            if op == "call":
                result = target(*args, **kwargs)
            elif op == "getattr":
                result = getattr(target, args[0])
            elif op in OPERATORS:
                method = getattr(type(target), op, None)  # looked up on the type, as Python does
                if method is None:
                    raise TypeError(f"'{type(target).__name__}' object does not support {op}")
                result = method(target, *args)
            else:
                raise TypeError(f"unsupported operation {op}")
            reply: dict[str, Any] = {"ok": encode(result)}
        except BaseException as exc:
            if isinstance(exc, SystemExit):
                os._exit(1)
            reply = {"raise": type(exc).__name__, "message": _safe_str(exc)}
        channel.send(reply)


# -- the test side (never runs model-written code) ---------------------------------------------
def test_client(test: str, fd: int, write_fd: int, nonce: str, prompt: str | None = None,
                entry_point: str | None = None, expose: Iterable[str] = ()) -> None:
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    write, exit_now = os.write, os._exit

    def report(status: str, error: str | None = None, failing_test: str | None = None) -> NoReturn:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        msg = f"{nonce}{FIELD}{status}{FIELD}{error or ''}{FIELD}{failing_test or ''}{RECORD}"
        write(write_fd, msg.encode("utf-8", "replace")[:RESULT_LIMIT])
        exit_now(0 if status == "passed" else 1)

    channel = _Channel(fd)
    try:
        hello = channel.recv()
    except ConnectionError:
        report("failed", "the solution's process ended before the tests ran (it exited or was killed)")
    if "setup_error" in hello:
        report("failed", hello["setup_error"])
    remote = _RemoteFactory(channel)
    globals_: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    solution = {name: remote.decode(value) for name, value in hello["names"].items()}
    globals_.update(test_names(solution, prompt, entry_point, expose))
    try:
        compiled_test = compile(test, "<test>", "exec")
    except BaseException as exc:
        report("failed", _describe(exc, "the test code does not compile"))
    try:
        exec(compiled_test, globals_)
    except BaseException as exc:
        report("failed", _describe(exc, "a test failed"), _failing_line(exc, test))
    report("passed")


def test_names(solution: dict[str, Any], prompt: str | None, entry_point: str | None,
               expose: Iterable[str] | None = ()) -> dict[str, Any]:
    """What the test's names mean. With a task (prompt and entry point): the task's own
    definitions and imports, run here from the prompt (suite code, like the test), plus the
    solution's entry point, and nothing else of the solution's: a solution that defines its own
    `abs`, `sorted` or the prompt's helper cannot change what the test calls. Without one (a bare
    job): the solution's names, less any that would shadow a builtin."""
    if not entry_point:
        return {k: v for k, v in solution.items() if not hasattr(builtins, k)}
    names: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    if not _run_task_definitions(prompt or "", names):
        # The prompt does not run alone: its import and definition names come from the solution.
        names.update({k: v for k, v in solution.items() if k in _defined_names(prompt or "")
                      and not hasattr(builtins, k)})
    # The prompt's stub is never what the test calls; a task may name more of the answer's
    # functions its tests call (`expose`), never a builtin.
    for name in (entry_point, *[e for e in expose or () if not hasattr(builtins, e)]):
        names.pop(name, None)
        if name in solution:
            names[name] = solution[name]
    names.pop("__name__")
    names.pop("__builtins__")
    return names


def _run_task_definitions(prompt: str, names: dict[str, Any]) -> bool:
    for stub in ("", "    pass\n"):
        try:
            code = compile(prompt + stub, "<task>", "exec")
        except SyntaxError:
            continue
        try:
            exec(code, names)
            return True
        except BaseException:
            return False
    return False


def _defined_names(prompt: str) -> set[str]:
    import re

    found = set(re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", prompt, re.M))
    found.update(re.findall(r"^(\w+)\s*(?::[^=]*)?=", prompt, re.M))
    for line in re.findall(r"^(?:from\s+\S+\s+)?import\s+(.+)$", prompt, re.M):
        for part in line.strip("() ").split(","):
            part = part.strip().split(" as ")[-1].strip()
            if part and part != "*":
                found.add(part.split(".")[0])
    return found


class _RemoteFactory:
    def __init__(self, channel: _Channel) -> None:
        self.channel = channel

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        kinds: dict[type, str] = {list: "l", tuple: "t", set: "s", frozenset: "fs"}
        if type(value) in kinds:
            return {kinds[type(value)]: [self.encode(v) for v in value]}
        if type(value) is dict:
            return {"d": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if type(value) is bytes:
            return {"b": value.hex()}
        if type(value) is complex:
            return {"c": [value.real, value.imag]}
        if isinstance(value, _Remote):
            return {"r": object.__getattribute__(value, "_ref")}
        raise TypeError(f"a {type(value).__name__} cannot be passed to the solution (it runs in another process)")

    def decode(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "r" in value:
            return _Remote(self, value["r"], value.get("type", "object"))
        (tag, inner), = [(k, v) for k, v in value.items() if k in ("l", "t", "s", "fs", "d", "b", "c")]
        if tag == "d":
            return {self.decode(k): self.decode(v) for k, v in inner}
        if tag == "b":
            return bytes.fromhex(inner)
        if tag == "c":
            return complex(*inner)
        return {"l": list, "t": tuple, "s": set, "fs": frozenset}[tag](self.decode(v) for v in inner)

    def ask(self, ref: int, op: str, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None) -> Any:
        self.channel.send({"ref": ref, "op": op, "args": [self.encode(a) for a in args],
                           "kwargs": {k: self.encode(v) for k, v in (kwargs or {}).items()}})
        reply = self.channel.recv()
        if "raise" in reply:
            kind = getattr(builtins, reply["raise"], None)
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                kind = RuntimeError
            raise kind(reply["message"])
        return self.decode(reply["ok"])


class _Remote:
    """A function or object that lives in the solution's process."""

    def __init__(self, factory: _RemoteFactory, ref: int, type_name: str) -> None:
        object.__setattr__(self, "_factory", factory)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_type", type_name)

    def _ask(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return object.__getattribute__(self, "_factory").ask(object.__getattribute__(self, "_ref"), op, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return self._ask("getattr", name)


def _operator(op: str) -> Callable[..., Any]:
    def method(self: _Remote, *args: Any) -> Any:
        return self._ask(op, *args)
    method.__name__ = op
    return method


def _equality(op: str) -> Callable[[_Remote, object], Any]:
    # Compared with plain data, an object of the solution's own class is never equal: otherwise
    # a class whose __eq__ always says True would pass `assert f() == 1`.
    def method(self: _Remote, other: object) -> Any:
        if not isinstance(other, _Remote):
            return op == "__ne__"
        return self._ask(op, other)
    method.__name__ = op
    return method


for _op in OPERATORS:
    setattr(_Remote, _op, _equality(_op) if _op in ("__eq__", "__ne__") else _operator(_op))


def parse_reports(raw: str, nonce: str) -> list[dict[str, str | None]]:
    """Every report carrying our nonce (only the test process has it)."""
    reports: list[dict[str, str | None]] = []
    for record in raw.split(RECORD):
        fields = record.split(FIELD)
        if len(fields) == 4 and fields[0] == nonce:
            reports.append({"status": fields[1], "error": fields[2] or None,
                            "failing_test": fields[3] or None})
    return reports


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except BaseException:
        return type(exc).__name__


def _describe(exc: BaseException, context: str) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:
        text = type(exc).__name__
    if isinstance(exc, SystemExit):
        text = f"SystemExit({exc.code!r}): the program exited before the tests finished"
    return f"{context}: {text}"[:4000]


def _failing_line(exc: BaseException, test: str) -> str | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<test>":
            line = tb.tb_lineno
        tb = tb.tb_next
    lines = test.splitlines()
    if line and 0 < line <= len(lines):
        return lines[line - 1].strip()[:2000]
    return None
