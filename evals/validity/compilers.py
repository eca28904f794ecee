"""The compile level: run a real toolchain on an answer, when one is installed.

Each toolchain only parses / type-checks (``node --check``, ``javac``, ``rustc --emit=metadata``,
``g++ -fsyntax-only``, ``godot3-server --check-only`` …); nothing an answer contains is run. But
a compiler reads what the answer names (``#include "/etc/…"``, ``include_str!``), so every
toolchain runs inside the pass@k sandbox (evals.sandbox: namespaces, a new root holding only the
answer's files and the toolchains — no homes, studio data, checkout or other host files —
rlimits, wall-clock kill, scrubbed environment) — the same isolation as pass@k's compile step. Where execution is switched off (hosted mode) the level is skipped.

GDScript: target 3 uses Debian's ``godot3-server`` (3.2.3), target 4 a ``godot4``/``godot``
binary when one is on PATH. The answer is checked with the reviewer's stubs appended (a
``func``/``var``/inner ``class`` for each user-made name it references), so the compiler judges
the engine API use, not the snippet's missing context.

Spawning a compiler costs 20 ms (gcc) to 1 s (javac) per answer, so:
results are cached by content hash (per process), ``compile_many`` runs toolchains on a
thread pool, and javac compiles a whole batch in one JVM (files that javac names in errors
are invalid; the rest are re-checked together until a batch comes back clean, so one bad
file cannot hide another's errors). Python's compile level is ``py_compile`` in-process.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import py_compile
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .findings import Finding


@dataclass(frozen=True)
class Toolchain:
    executables: tuple[str, ...]  # first one found on PATH is used
    argv: tuple[str, ...]  # {exe} {file} {dir} are filled in
    suffix: str


TOOLCHAINS: dict[str, Toolchain] = {
    "javascript": Toolchain(("node",), ("{exe}", "--check", "{file}"), ".js"),
    "typescript": Toolchain(("tsc",), ("{exe}", "--noEmit", "--pretty", "false", "{file}"), ".ts"),
    "java": Toolchain(("javac",), ("{exe}", "-J-XX:+UseSerialGC", "-J-Xmx512m", "-J-XX:ReservedCodeCacheSize=64m",
                                   "-J-XX:CompressedClassSpaceSize=64m", "-d", "classes", "-nowarn",
                                   "{file}"), ".java"),
    "rust": Toolchain(("rustc",), ("{exe}", "--edition", "2021", "--crate-type", "lib",
                                   "--emit=metadata", "-o", "{dir}/out.rmeta", "{file}"), ".rs"),
    "c": Toolchain(("gcc", "clang", "cc"), ("{exe}", "-fsyntax-only", "-std=c11", "{file}"), ".c"),
    "cpp": Toolchain(("g++", "clang++"), ("{exe}", "-fsyntax-only", "-std=c++17", "{file}"), ".cpp"),
    "go": Toolchain(("gofmt",), ("{exe}", "-e", "-l", "{file}"), ".go"),
    "lua": Toolchain(("luac", "luac5.4", "luac5.3"), ("{exe}", "-p", "{file}"), ".lua"),
    "gdscript": Toolchain(("godot4", "godot"),
                          ("{exe}", "--headless", "--check-only", "--script", "{file}"), ".gd"),
    "gdscript3": Toolchain(("godot3-server", "godot3"), ("{exe}", "--check-only", "-s", "{file}"), ".gd"),
}
DEFAULT_TIMEOUT_S = 20.0
_CACHE: dict[str, tuple[Finding, ...]] = {}
_CACHE_LIMIT = 100_000
_SAFE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "RUSTUP_HOME", "CARGO_HOME", "JAVA_HOME")
_WORKERS: list = []  # warm sandbox workers, one per concurrent compile
_WORKERS_LOCK = threading.Lock()


@atexit.register
def _close_workers() -> None:
    with _WORKERS_LOCK:
        while _WORKERS:
            _WORKERS.pop().close()
# The JVM reserves far more address space than it uses; these keep javac inside the sandbox's
# 4 GiB compile limit (the same flags pass@k uses).
JAVAC_JVM = ("-J-XX:+UseSerialGC", "-J-XX:-UsePerfData", "-J-XX:TieredStopAtLevel=1", "-J-Xmx512m",
             "-J-XX:ReservedCodeCacheSize=64m", "-J-XX:CompressedClassSpaceSize=64m")
_JAVA_PUBLIC_TYPE = re.compile(r"\bpublic\s+(?:(?:final|abstract|sealed|strictfp)\s+)*"
                               r"(?:class|interface|enum|record)\s+([A-Za-z_]\w*)")


def find_toolchain(language: str) -> str | None:
    """Path of the executable that would check ``language``, or None."""
    if language == "python":
        return "py_compile"
    chain = TOOLCHAINS.get(language)
    if chain is None:
        return None
    for exe in chain.executables:
        path = shutil.which(exe)
        if path:
            return path
    return None


def available_toolchains() -> dict[str, str]:
    return {lang: path for lang in ["python", *TOOLCHAINS] if (path := find_toolchain(lang))}


def _key(code: str, language: str) -> str:
    return hashlib.sha256(f"{language}\0{code}".encode()).hexdigest()


def _file_name(code: str, language: str) -> str:
    if language == "java":
        match = _JAVA_PUBLIC_TYPE.search(code)
        return (match.group(1) if match else "Main") + ".java"
    return "answer" + TOOLCHAINS[language].suffix


def _env() -> dict[str, str]:
    return {k: os.environ[k] for k in _SAFE_ENV_KEYS if k in os.environ}


def _first_line_number(output: str, file_name: str) -> int:
    match = re.search(re.escape(file_name) + r"[:(](\d+)", output)
    return int(match.group(1)) if match else 0


def _summary(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r"\berror\b|Error|SyntaxError", ln):
            return ln[:240]
    return (lines[-1] if lines else "compiler reported an error")[:240]


def _python_compile(code: str) -> tuple[Finding, ...]:
    with tempfile.TemporaryDirectory(prefix="validity-") as tmp:
        path = Path(tmp, "answer.py")
        path.write_text(code, encoding="utf-8")
        try:
            py_compile.compile(str(path), cfile=str(Path(tmp, "answer.pyc")), doraise=True)
        except py_compile.PyCompileError as exc:
            line = getattr(exc.exc_value, "lineno", 0) or 0
            return (Finding("py-compile-error", line, exc.exc_value.__class__.__name__ + ": "
                            + str(getattr(exc.exc_value, "msg", exc.msg)), level="compile"),)
    return ()


def _sandboxed(files: dict[str, str], argv: list[str], timeout: float) -> dict:
    """Run one toolchain command on ``files`` in a sandbox worker; the worker's result dict."""
    from evals.sandbox import SandboxLimits, SandboxWorker

    limits = SandboxLimits(compile_timeout_s=timeout)
    step_limits = limits.for_run(timeout_s=timeout, memory_mb=4096, max_processes=256)
    job = {"kind": "steps", "env": _env(), "files": dict(files, **{"done.sh": "read n\nprintf '\\n%s\\n' \"$n\"\n"}),
           "nonce_stdin": True,
           "steps": [{"name": "compile", "argv": argv, "limits": step_limits},
                     {"name": "done", "argv": ["/bin/sh", "done.sh"], "limits": limits.for_run()}]}
    with _WORKERS_LOCK:
        worker = _WORKERS.pop() if _WORKERS else SandboxWorker(limits)
    try:
        return worker.run(job)
    finally:
        with _WORKERS_LOCK:
            _WORKERS.append(worker)


_PASSK_TOOL = {"rust": ("rust", 0), "java": ("java", 1), "cpp": ("cpp", 0), "javascript": ("js", 0)}


def _visible_exe(language: str, exe: str) -> str:
    """The sandbox hides homes, so a rustup proxy in ~/.cargo/bin cannot run there: use the
    toolchain binary pass@k resolved (its root is kept visible)."""
    if language in _PASSK_TOOL:
        from evals.passk.languages import toolchains

        name, index = _PASSK_TOOL[language]
        chain = toolchains().get(name)
        if chain is not None and chain.available and len(chain.tools) > index:
            return chain.tools[index]
    return exe


def _run_one(code: str, language: str, exe: str, timeout: float, name: str | None = None) -> tuple[Finding, ...]:
    chain = TOOLCHAINS[language]
    exe = _visible_exe(language, exe)
    name = name or _file_name(code, language)
    argv = [a.format(exe=exe, file=name, dir=".") for a in chain.argv]
    result = _sandboxed({name: code}, argv, timeout)
    if result["status"] == "passed":
        return ()
    output = result.get("output") or result.get("error") or ""
    if result["status"] == "timeout":
        return (Finding("compile-timeout", 0, f"{Path(exe).name} took longer than {timeout:.0f}s",
                        severity="warning", level="compile"),)
    if result["status"] == "error":
        return (Finding("compile-sandbox-error", 0, f"the sandbox could not run {Path(exe).name}: "
                        f"{result.get('error')}", severity="warning", level="compile"),)
    failed = language != "go" or "error" in output.lower() or "failed" in (result.get("error") or "")
    if not failed:
        return ()
    rule = "compile-gdscript" if language.startswith("gdscript") else f"compile-{language}"
    return (Finding(rule, _first_line_number(output, name), f"{Path(exe).name}: {_summary(output)}",
                    level="compile"),)


def compile_check(code: str, language: str, timeout: float = DEFAULT_TIMEOUT_S) -> list[Finding]:
    """Findings from the real toolchain for ``language`` (cached by content hash)."""
    return compile_many([code], language, timeout=timeout)[0]


def compile_many(codes: list[str], language: str, timeout: float = DEFAULT_TIMEOUT_S,
                 jobs: int = 4) -> list[list[Finding]]:
    from evals.sandbox import execution_allowed

    exe = find_toolchain(language)
    allowed, why = execution_allowed()
    if exe is not None and language != "python" and not allowed:
        return [[Finding("compile-disabled", 0, f"compile level skipped: {why}", severity="info",
                         level="compile")] for _ in codes]
    if exe is None:
        skipped = [Finding("compile-unavailable", 0, f"no {language} toolchain installed; "
                           "compile level skipped", severity="info", level="compile")]
        return [list(skipped) for _ in codes]
    keys = [_key(c, language) for c in codes]
    todo = {k: c for k, c in zip(keys, codes) if k not in _CACHE}
    if todo:
        if language == "java" and len(todo) > 1:
            results = _javac_batch(todo, exe, timeout)
        elif language == "python":
            results = {k: _python_compile(c) for k, c in todo.items()}
        else:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {k: pool.submit(_run_one, c, language, exe, timeout) for k, c in todo.items()}
                results = {k: f.result() for k, f in futures.items()}
        if len(_CACHE) + len(results) > _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE.update(results)
    return [list(_CACHE[k]) for k in keys]


_JAVA_TOP_TYPE = re.compile(r"^(?:(?:public|final|abstract|sealed|strictfp)\s+)*"
                            r"(?:class|interface|enum|record)\s+([A-Za-z_]\w*)", re.M)
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)


def _java_type_names(code: str) -> set[str]:
    package = _JAVA_PACKAGE.search(code)
    prefix = package.group(1) + "." if package else ""
    return {prefix + name for name in _JAVA_TOP_TYPE.findall(code)} or {prefix + "Main"}


def _javac_batch(todo: dict[str, str], exe: str, timeout: float) -> dict[str, tuple[Finding, ...]]:
    """One javac per group of answers whose top-level type names do not collide (two
    answers that both declare ``class Main`` would otherwise be a 'duplicate class')."""
    groups: list[tuple[set[str], dict[str, str]]] = []
    for key, code in todo.items():
        names = _java_type_names(code)
        for taken, members in groups:
            if not taken & names:
                taken |= names
                members[key] = code
                break
        else:
            groups.append((set(names), {key: code}))
    results: dict[str, tuple[Finding, ...]] = {}
    for _, members in groups:
        results.update(_javac_group(members, exe, timeout) if len(members) > 1
                       else {k: _run_one(c, "java", exe, timeout) for k, c in members.items()})
    return results


def _javac_group(todo: dict[str, str], exe: str, timeout: float) -> dict[str, tuple[Finding, ...]]:
    """One sandboxed javac over a group whose type names do not collide (flat file names: a
    public type's file must be named after it, any other file gets a unique name)."""
    results: dict[str, tuple[Finding, ...]] = {}
    pending = dict(todo)
    names = {}
    for i, (key, code) in enumerate(pending.items()):
        public = _JAVA_PUBLIC_TYPE.search(code)
        names[key] = (public.group(1) if public else f"Answer{i}") + ".java"
    while pending:
        argv = [_visible_exe("java", exe), *JAVAC_JVM, "-nowarn", "-Xmaxerrs", "10000", "-d", "classes",
                *(names[k] for k in pending)]
        result = _sandboxed({names[k]: todo[k] for k in pending}, argv, timeout * len(pending))
        if result["status"] == "passed":
            results.update({k: () for k in pending})
            break
        output = result.get("output") or ""
        blamed = {k for k in pending if re.search(rf"(?m)^{re.escape(names[k])}:", output)}
        if result["status"] != "failed" or not blamed:  # cannot attribute: one run per file
            results.update({k: _run_one(todo[k], "java", exe, timeout) for k in pending})
            break
        for k in blamed:
            own = "\n".join(ln for ln in output.splitlines() if ln.startswith(names[k] + ":"))
            results[k] = (Finding("compile-java", _first_line_number(own, names[k]),
                                  f"javac: {_summary(own)}", level="compile"),)
            del pending[k]
    return results


GDSCRIPT_STUB_ARGS = 8


def gdscript_stubs(user_names: dict[str, str]) -> str:
    """What a reviewer appends before compiling: a stub per user-made name (kind: call, name,
    type) so the compiler judges only the engine API use."""
    lines = ["", ""]
    for name, kind in sorted(user_names.items()):
        if kind == "call":
            params = ", ".join(f"_a{i} = null" for i in range(GDSCRIPT_STUB_ARGS))
            lines.append(f"func {name}({params}):\n\treturn null")
        elif kind in ("type", "receiver") and name[:1].isupper():
            lines.append(f"class {name}:\n\tvar _stub = null")
        else:
            lines.append(f"var {name} = null")
    return "\n".join(lines) + "\n"


_CONST_PRELOAD = re.compile(r"^([ \t]*)const(\s+\w+\s*(?::\s*\w+\s*)?=\s*)preload\s*\(", re.M)
_PRELOAD = re.compile(r"(?<![\w.])preload\s*\(")


def without_project_resources(code: str) -> str:
    """An answer's ``preload("res://…")`` names files of a project we do not have; the compiler
    would stop at the first one. A reviewer supplies the file; here it becomes a run-time load
    (a preloaded constant becomes a variable) so the rest of the answer is still judged."""
    return _PRELOAD.sub("load(", _CONST_PRELOAD.sub(r"\1var\2load(", code))


_LEADING_TOOL = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*@tool\b[^\n]*\n")
_SKIPPED = ("compile-disabled", "compile-unavailable")


def with_extends(code: str, base: str) -> tuple[str, int]:
    """``code`` with the reviewer's ``extends base`` line added where Godot wants it (first, but
    after a leading Godot 4 ``@tool``), and the 1-based line number it was given."""
    tool = _LEADING_TOOL.match(code)
    at = tool.end() if tool else 0
    return code[:at] + f"extends {base}\n" + code[at:], code[:at].count("\n") + 1


def compile_gdscript(code: str, target: str, user_names: dict[str, str] | None = None,
                     timeout: float = DEFAULT_TIMEOUT_S,
                     extends: tuple[str, list[str]] | None = None) -> list[Finding]:
    """The compile level for GDScript: the target's Godot binary with --check-only, sandboxed,
    on the answer plus the reviewer's stubs for ``user_names``. ``extends`` (class, the members
    that imply it) is the base a reviewer attaches an answer without ``extends`` to; the line is
    added before compiling (the compiler's line numbers are mapped back to the answer's) and
    recorded as an info finding, as the stubs are."""
    language = "gdscript3" if str(target).startswith("3") else "gdscript"
    source = without_project_resources(code)
    added = 0
    if extends:
        source, added = with_extends(source, extends[0])
    stubbed = source.rstrip("\n") + "\n" + (gdscript_stubs(user_names) if user_names else "")
    findings = compile_many([stubbed], language, timeout=timeout)[0]
    if not extends or any(f.rule_id in _SKIPPED for f in findings):
        return findings
    shifted = [f if f.line < added else replace(f, line=max(f.line - 1, 0) if f.line > added else 0)
               for f in findings]
    base, names = extends
    why = (f"the engine class its own members need: {', '.join(names[:6])}{', …' if len(names) > 6 else ''}"
           if names else "it uses no member of a more specific engine class")
    return shifted + [Finding("compile-amended-extends", 0, f"the answer has no extends line: compiled "
                              f"with 'extends {base}' added, as a reviewer attaches it ({why})",
                              severity="info", level="compile")]
