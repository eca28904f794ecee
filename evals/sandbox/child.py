"""Python programs inside the forked sandbox child: run the solution, restore the modules it
may have patched, run the tests, report with the run's nonce.

Imported by worker.py (stdlib only). The worker takes a snapshot of every module's
namespace before any sample runs; a child restores what the solution changed (e.g.
`builtins.abs = lambda x: 0` or `math.isclose = lambda *a: True`) before the tests run, so
patched assert helpers cannot fake a pass. Class attributes are not restored.
"""
import ctypes
import os
import sys

RESULT_LIMIT = 60_000
FIELD, RECORD = "\x1f", "\x1e"


def snapshot():
    """Module dicts as they are before any untrusted code runs, with their dict versions."""
    # Real modules only: their __dict__ is a plain dict that lives as long as the module.
    entries = [(name, mod, dict(mod.__dict__)) for name, mod in list(sys.modules.items())
               if isinstance(mod, type(sys)) and type(mod.__dict__) is dict]
    addrs = [id(mod.__dict__) for _, mod, _ in entries]
    return {"entries": entries, "addrs": addrs, "versions": _versions(addrs),
            "names": set(sys.modules), "modules_addr": id(sys.modules),
            "modules_version": _versions([id(sys.modules)])[0]}


def _versions(addrs):
    return [_version_at(a) for a in addrs] if _dict_version else [0] * len(addrs)


def snapshot_stale(snap):
    """True when the worker's own modules changed since the snapshot (then take a new one)."""
    if _dict_version is None:
        return False
    return (_version_at(snap["modules_addr"]) != snap["modules_version"]
            or _versions(snap["addrs"]) != snap["versions"])


def _make_dict_version_reader():
    """CPython 3.11 keeps a version tag in every dict that changes on each write (PEP 509).
    Reading it lets a forked child restore only the modules a solution touched, instead of
    comparing every entry (which would copy-on-write most of the heap). Verified, not assumed."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return None

    def version(d):
        return ctypes.c_uint64.from_address(id(d) + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value

    probe = {"a": 1}
    v1 = version(probe)
    probe["a"] = 2
    v2 = version(probe)
    probe["b"] = 3
    v3 = version(probe)
    return version if v1 < v2 < v3 else None


def _version_at(addr):
    return ctypes.c_uint64.from_address(addr + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value


_dict_version = _make_dict_version_reader()


def restore(snap):
    """Undo what the solution did to shared modules so the tests use pristine helpers.

    Only modules whose dict version moved are compared entry by entry; touching every module
    object in a forked child would copy most of the worker's heap (refcount writes)."""
    sys.settrace(None)
    sys.setprofile(None)
    fast = _dict_version is not None
    if not fast or _version_at(snap["modules_addr"]) != snap["modules_version"]:
        names = snap["names"]
        for name in [n for n in sys.modules if n not in names]:
            del sys.modules[name]
        for name, mod, _ in snap["entries"]:
            if sys.modules.get(name) is not mod:
                sys.modules[name] = mod
    versions = snap["versions"]
    for i, addr in enumerate(snap["addrs"]):
        if fast and _version_at(addr) == versions[i]:
            continue
        _name, mod, saved = snap["entries"][i]
        current = mod.__dict__
        for key, value in saved.items():
            if current.get(key, _MISSING) is not value:
                current[key] = value
        for key in [k for k in current if k not in saved]:
            del current[key]


_MISSING = object()


def python_child(code, test, write_fd, nonce, snap):
    # What runs after untrusted code is bound to locals first and formats with str only, so a
    # solution that patches json/os/sys cannot change how the verdict is reported.
    write, exit_now = os.write, os._exit
    out, err = sys.stdout, sys.stderr

    def report(status, error=None, failing_test=None):
        for stream in (out, err):
            try:
                stream.flush()
            except BaseException:
                pass
        msg = f"{nonce}{FIELD}{status}{FIELD}{error or ''}{FIELD}{failing_test or ''}{RECORD}"
        write(write_fd, msg.encode("utf-8", "replace")[:RESULT_LIMIT])
        exit_now(0 if status == "passed" else 1)

    globals_ = {}
    try:
        compiled = compile(code, "<solution>", "exec")
    except BaseException as exc:
        report("failed", _describe(exc, "the solution does not compile"))
    try:
        exec(compiled, globals_)
    except BaseException as exc:
        report("failed", _describe(exc, "the solution raised before the tests ran"))
    restore(snap)
    try:
        compiled_test = compile(test, "<test>", "exec")
    except BaseException as exc:
        report("failed", _describe(exc, "the test code does not compile"))
    try:
        exec(compiled_test, globals_)
    except BaseException as exc:
        report("failed", _describe(exc, "a test failed"), _failing_line(exc, test))
    report("passed")


def parse_reports(raw, nonce):
    """Every report carrying our nonce; a solution that forked may have produced several."""
    reports = []
    for record in raw.split(RECORD):
        fields = record.split(FIELD)
        if len(fields) == 4 and fields[0] == nonce:
            reports.append({"status": fields[1], "error": fields[2] or None,
                            "failing_test": fields[3] or None})
    return reports


def _describe(exc, context):
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:
        text = type(exc).__name__
    if isinstance(exc, SystemExit):
        text = f"SystemExit({exc.code!r}): the program exited before the tests finished"
    return f"{context}: {text}"[:4000]


def _failing_line(exc, test):
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<test>":
            line = tb.tb_lineno
        tb = tb.tb_next
    lines = test.splitlines()
    if line and 0 < line <= len(lines):
        return lines[line - 1].strip()[:2000]
    return None
