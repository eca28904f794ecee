"""The compile level: run a real toolchain on an answer, when one is installed.

Each toolchain only parses / type-checks (``node --check``, ``javac``, ``rustc --emit=metadata``,
``g++ -fsyntax-only`` …); nothing an answer contains is executed. Still, every run gets a
fresh temporary directory, a wall-clock timeout and a minimal environment.

Spawning a compiler costs 20 ms (gcc) to 1 s (javac) per answer, so:
results are cached by content hash (per process), ``compile_many`` runs toolchains on a
thread pool, and javac compiles a whole batch in one JVM (files that javac names in errors
are invalid; the rest are re-checked together until a batch comes back clean, so one bad
file cannot hide another's errors). Python's compile level is ``py_compile`` in-process.
"""
from __future__ import annotations

import hashlib
import os
import py_compile
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
    "java": Toolchain(("javac",), ("{exe}", "-d", "{dir}/classes", "-nowarn", "{file}"), ".java"),
    "rust": Toolchain(("rustc",), ("{exe}", "--edition", "2021", "--crate-type", "lib",
                                   "--emit=metadata", "-o", "{dir}/out.rmeta", "{file}"), ".rs"),
    "c": Toolchain(("gcc", "clang", "cc"), ("{exe}", "-fsyntax-only", "-std=c11", "{file}"), ".c"),
    "cpp": Toolchain(("g++", "clang++"), ("{exe}", "-fsyntax-only", "-std=c++17", "{file}"), ".cpp"),
    "go": Toolchain(("gofmt",), ("{exe}", "-e", "-l", "{file}"), ".go"),
    "lua": Toolchain(("luac", "luac5.4", "luac5.3"), ("{exe}", "-p", "{file}"), ".lua"),
    "gdscript": Toolchain(("godot", "godot4", "godot3"),
                          ("{exe}", "--headless", "--check-only", "--script", "{file}"), ".gd"),
}
DEFAULT_TIMEOUT_S = 20.0
_CACHE: dict[str, tuple[Finding, ...]] = {}
_CACHE_LIMIT = 100_000
_SAFE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "RUSTUP_HOME", "CARGO_HOME", "JAVA_HOME")
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


def _run_one(code: str, language: str, exe: str, timeout: float) -> tuple[Finding, ...]:
    chain = TOOLCHAINS[language]
    name = _file_name(code, language)
    with tempfile.TemporaryDirectory(prefix="validity-") as tmp:
        path = Path(tmp, name)
        path.write_text(code, encoding="utf-8")
        argv = [a.format(exe=exe, file=str(path), dir=tmp) for a in chain.argv]
        try:
            proc = subprocess.run(argv, cwd=tmp, env=_env(), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return (Finding("compile-timeout", 0, f"{Path(exe).name} took longer than {timeout:.0f}s",
                            severity="warning", level="compile"),)
        output = (proc.stderr or "") + (proc.stdout or "")
        failed = proc.returncode != 0 or (language == "go" and "error" in output.lower())
        if not failed:
            return ()
        return (Finding(f"compile-{language}", _first_line_number(output, name),
                        f"{Path(exe).name}: {_summary(output)}", level="compile"),)


def compile_check(code: str, language: str, timeout: float = DEFAULT_TIMEOUT_S) -> list[Finding]:
    """Findings from the real toolchain for ``language`` (cached by content hash)."""
    return compile_many([code], language, timeout=timeout)[0]


def compile_many(codes: list[str], language: str, timeout: float = DEFAULT_TIMEOUT_S,
                 jobs: int = 4) -> list[list[Finding]]:
    exe = find_toolchain(language)
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
    results: dict[str, tuple[Finding, ...]] = {}
    pending = dict(todo)
    with tempfile.TemporaryDirectory(prefix="validity-javac-") as tmp:
        paths = {}
        for i, (key, code) in enumerate(pending.items()):
            folder = Path(tmp, f"a{i}")
            folder.mkdir()
            paths[key] = folder / _file_name(code, "java")
            paths[key].write_text(code, encoding="utf-8")
        while pending:
            argv = [exe, "-nowarn", "-Xmaxerrs", "10000", "-d", str(Path(tmp, "classes"))]
            try:
                proc = subprocess.run(argv + [str(paths[k]) for k in pending], cwd=tmp, env=_env(),
                                      capture_output=True, text=True, timeout=timeout * len(pending),
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                results.update({k: _run_one(todo[k], "java", exe, timeout) for k in pending})
                break
            if proc.returncode == 0:
                results.update({k: () for k in pending})
                break
            output = proc.stderr + proc.stdout
            blamed = {k for k in pending if str(paths[k]) + ":" in output}
            if not blamed:  # an error we cannot attribute: fall back to one run per file
                results.update({k: _run_one(todo[k], "java", exe, timeout) for k in pending})
                break
            for k in blamed:
                own = "\n".join(ln for ln in output.splitlines() if ln.startswith(str(paths[k])))
                results[k] = (Finding("compile-java", _first_line_number(own, paths[k].name),
                                      f"javac: {_summary(own.replace(str(paths[k]), paths[k].name))}",
                                      level="compile"),)
                del pending[k]
    return results
