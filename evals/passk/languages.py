"""Languages pass@k can execute: toolchain detection and how a task + completion becomes a job.

    available_languages()            # ['cpp', 'java', 'js', 'python', 'rust'] on this machine
    build_job("python", code, test, SandboxLimits())   # -> dict for SandboxWorker.run

`code` is the solution part (prompt + completion, plus imports), `test` the suite's test part.
Python runs in the warm forked interpreter; the others are written to files, compiled where
needed and exec'd. Each non-Python program gets an epilogue, appended after the tests, that
prints the run's nonce; the worker counts a pass only when that line is there and the process
exited 0. How the epilogue runs after the tests differs per language:
  C++   the test's `main` is renamed by a #define, and our `main` calls it, then prints;
  Java  a second class calls Main.main, then prints;
  Rust  `#[test]` functions are made callable and a C `main` (crate is #![no_main]) calls each;
  JS    a statement after the test code; `console.assert` throws instead of only logging, and
        the `assert` module is restored between the solution and the tests.
Go is detected and listed, but its tasks are refused with a clear error: HumanEvalPack's Go
tests need the testify module, which an offline machine cannot fetch.
"""
from __future__ import annotations

from pipeline.errors import StudioError

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache


ALIASES = {"py": "python", "python3": "python", "javascript": "js", "node": "js", "c++": "cpp",
           "cxx": "cpp", "rs": "rust", "golang": "go"}
EXTENSIONS = {"python": "py", "js": "js", "cpp": "cpp", "java": "java", "rust": "rs", "go": "go"}
DISPLAY = {"python": "Python", "js": "JavaScript", "cpp": "C++", "java": "Java", "rust": "Rust",
           "go": "Go"}

CPP_HEADER = "".join(f"#include <{h}>\n" for h in (
    "stdlib.h", "stdio.h", "math.h", "string.h", "algorithm", "cmath", "numeric", "vector", "set",
    "map", "unordered_map", "unordered_set", "queue", "stack", "list", "deque", "string",
    "climits", "cstring", "iostream", "sstream", "functional", "utility", "cassert")) \
    + "using namespace std;\n"
JAVA_HEADER = "".join(f"import {p};\n" for p in (
    "java.util.*", "java.lang.*", "java.util.stream.*", "java.math.*", "java.security.*"))
JS_PRELUDE = """\
const __studioAssert = require('assert');
const __studioSaved = Object.assign({}, __studioAssert);
const __studioConsoleAssert = (ok, ...msg) => {
  if (!ok) { throw new Error('Assertion failed' + (msg.length ? ': ' + msg.join(' ') : '')); }
};
console.assert = __studioConsoleAssert;
"""
JS_RESTORE = "\n;Object.assign(__studioAssert, __studioSaved); console.assert = __studioConsoleAssert;\n"
RUST_PRELUDE = "#![no_main]\n#![allow(unused, dead_code, unused_imports, non_snake_case, deprecated)]\n"
# Crates HumanEvalPack's Rust declarations `use` although standalone rustc cannot link them.
RUST_EXTERNAL_USE = re.compile(r"^\s*use\s+(rand|regex|md5)\b[^;]*;\s*$", re.M)


class ToolchainMissing(StudioError):
    """A language's compiler or runtime is not installed on this machine."""


@dataclass(frozen=True)
class Toolchain:
    language: str
    available: bool
    version: str = ""
    tools: tuple[str, ...] = ()   # absolute paths: runtime/compiler first
    root: str = ""                # directory that must stay visible inside the sandbox


def normalize_language(language: str | None) -> str:
    lang = (language or "python").strip().lower()
    return ALIASES.get(lang, lang)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else ""


@lru_cache(maxsize=1)
def toolchains() -> dict[str, Toolchain]:
    """What is installed here, per language (probed once per process)."""
    import sys

    found = {"python": Toolchain("python", True, sys.version.split()[0], (sys.executable,))}
    node = shutil.which("node")
    found["js"] = Toolchain("js", bool(node), _version([node, "--version"]) if node else "",
                            (os.path.realpath(node),) if node else ())
    gxx = shutil.which("g++")
    found["cpp"] = Toolchain("cpp", bool(gxx), _version([gxx, "--version"]) if gxx else "",
                             (os.path.realpath(gxx),) if gxx else ())
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac and java:
        javac, java = os.path.realpath(javac), os.path.realpath(java)
        found["java"] = Toolchain("java", True, _version([javac, "-version"]), (java, javac),
                                  os.path.dirname(os.path.dirname(javac)))
    else:
        found["java"] = Toolchain("java", False)
    found["rust"] = _rust_toolchain()
    go = shutil.which("go")
    found["go"] = Toolchain("go", bool(go), _version([go, "version"]) if go else "",
                            (os.path.realpath(go),) if go else ())
    return found


def _rust_toolchain() -> Toolchain:
    rustc = shutil.which("rustc")
    if not rustc:
        return Toolchain("rust", False)
    try:  # rustup's proxy needs $HOME; the sandbox calls the real compiler in the sysroot
        sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return Toolchain("rust", False)
    real = os.path.join(sysroot, "bin", "rustc")
    if not sysroot or not os.path.exists(real):
        return Toolchain("rust", False)
    return Toolchain("rust", True, _version([real, "--version"]), (real,), sysroot)


def available_languages() -> list[str]:
    """Languages whose programs can run here (Go counts only when `go` is installed)."""
    return sorted(lang for lang, tc in toolchains().items() if tc.available and lang != "go")


def toolchain_roots() -> list[str]:
    return [tc.root for tc in toolchains().values() if tc.available and tc.root]


def require(language: str) -> Toolchain:
    language = normalize_language(language)
    tc = toolchains().get(language)
    if tc is None:
        raise ToolchainMissing(f"pass@k cannot run {language!r} programs; supported: "
                               f"{', '.join(sorted(EXTENSIONS))}")
    if not tc.available:
        raise ToolchainMissing(f"no {DISPLAY[language]} toolchain on this machine, so "
                               f"{DISPLAY[language]} tasks cannot be executed (installed: "
                               f"{', '.join(available_languages())})")
    if language == "go":
        raise ToolchainMissing("Go tasks cannot be executed here: HumanEvalPack's Go tests import "
                               "github.com/stretchr/testify, which cannot be fetched offline")
    return tc


# -- programs --------------------------------------------------------------------------------
def import_lines(prompt: str, language: str) -> str:
    """The prompt's import/include lines, for completions that are whole programs (chat)."""
    language = normalize_language(language)
    prefixes = {"python": ("import ", "from "), "js": ("import ",), "cpp": ("#include", "using "),
                "java": ("import ",), "rust": ("use ",), "go": ("import",)}[language]

    def is_import(line: str) -> bool:
        line = line.strip()
        return line.startswith(prefixes) or (language == "js" and "require(" in line)

    return "".join(line + "\n" for line in prompt.splitlines() if is_import(line))


def solution_code(language: str, prompt: str, completion: str, mode: str = "continuation") -> str:
    """The solution part of the program: the prompt continued, or a whole program (chat)."""
    language = normalize_language(language)
    if mode == "continuation":
        return prompt + completion
    if language == "python":
        # Keep the prompt (its imports and helpers) and let the whole function redefine the
        # stub; a stub without a docstring body gets `pass` so the prefix still compiles.
        for stub in ("", "    pass\n"):
            try:
                compile(prompt + stub, "<prompt>", "exec")
                return prompt + stub + "\n" + completion
            except SyntaxError:
                continue
        return import_lines(prompt, language) + completion
    return import_lines(prompt, language) + completion


def build_job(language: str, code: str, test: str, limits) -> dict:
    """A request for SandboxWorker.run; raises ToolchainMissing when the language can't run."""
    language = normalize_language(language)
    tc = require(language)
    if language == "python":
        return {"kind": "python", "code": code, "test": test, "limits": limits.for_run()}
    env = {"PATH": os.pathsep.join(dict.fromkeys(
        [os.path.dirname(t) for t in tc.tools] + ["/usr/local/bin", "/usr/bin", "/bin"])),
        "LANG": "C.UTF-8"}
    compile_limits = limits.for_run(timeout_s=limits.compile_timeout_s,
                                    memory_mb=max(limits.memory_mb, 4096),
                                    max_processes=max(limits.max_processes, 256))
    builder = {"js": _js, "cpp": _cpp, "java": _java, "rust": _rust}[language]
    job = builder(tc, code, test, limits, compile_limits)
    job.update(kind="steps", env=env)
    return job


def _js(tc, code, test, limits, compile_limits) -> dict:
    run = limits.for_run(max_processes=max(limits.max_processes, 64))
    heap = max(64, limits.memory_mb // 2)
    return {"files": {"main.js": JS_PRELUDE + code + JS_RESTORE + test},
            "sentinel_file": "main.js",
            "epilogue": "\n;process.stdout.write('\\n@@NONCE@@\\n');\n",
            "steps": [{"name": "run", "argv": [tc.tools[0], f"--max-old-space-size={heap}",
                                               "main.js"], "limits": run}]}


def _cpp(tc, code, test, limits, compile_limits) -> dict:
    source = CPP_HEADER + code + "\n#define main __studio_test_main\n" + test
    epilogue = ("\n#undef main\nint main() {\n    __studio_test_main();\n"
                "    std::printf(\"\\n@@NONCE@@\\n\");\n    std::fflush(stdout);\n    return 0;\n}\n")
    return {"files": {"main.cpp": source}, "sentinel_file": "main.cpp", "epilogue": epilogue,
            "remove_before_run": ["main.cpp"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [tc.tools[0], "-std=c++17", "-O0", "-w", "-o", "main", "main.cpp"]},
                      {"name": "run", "argv": ["./main"], "limits": limits.for_run()}]}


def _java(tc, code, test, limits, compile_limits) -> dict:
    java, javac = tc.tools
    jvm = ["-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
           "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=64m"]
    epilogue = ("\nclass StudioSentinel {\n    public static void main(String[] args) throws Throwable {\n"
                "        Main.main(args);\n        System.out.println();\n"
                "        System.out.println(\"@@NONCE@@\");\n        System.out.flush();\n    }\n}\n")
    heap = max(64, limits.memory_mb // 4)
    run = limits.for_run(memory_mb=max(limits.memory_mb, 1536),
                         max_processes=max(limits.max_processes, 128))
    return {"files": {"Main.java": JAVA_HEADER + code + "\n" + test},
            "sentinel_file": "Main.java", "epilogue": epilogue,
            "remove_before_run": ["Main.java"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [javac, *[f"-J{o}" for o in jvm], "-J-Xmx512m", "-nowarn",
                                "-encoding", "UTF-8", "-d", ".", "Main.java"]},
                      {"name": "run", "limits": run,
                       "argv": [java, *jvm, f"-Xmx{heap}m", "-Djava.io.tmpdir=.", "-cp", ".",
                                "StudioSentinel"]}]}


def rust_test_functions(test: str) -> tuple[str, list[str]]:
    """The test code with #[test] functions made public and callable, and their paths."""
    module = re.search(r"\bmod\s+(\w+)\s*\{", test)
    names = re.findall(r"#\[test\]\s*(?:pub\s+)?fn\s+(\w+)", test)
    body = re.sub(r"#\[cfg\(test\)\]\s*", "", test)
    body = re.sub(r"#\[test\]\s*(?:pub\s+)?fn\s+", "pub fn ", body)
    prefix = f"{module.group(1)}::" if module else ""
    return body, [prefix + n for n in names]


def _rust(tc, code, test, limits, compile_limits) -> dict:
    body, calls = rust_test_functions(test)
    if not calls:
        raise ToolchainMissing("the Rust test code has no #[test] functions to run")
    calls_text = "".join(f"        {c}();\n" for c in calls)
    # A panic must not unwind through the C entry point (that aborts with a long backtrace).
    epilogue = ('\n#[export_name = "main"]\npub extern "C" fn __studio_entry(_argc: i32, '
                '_argv: *const *const u8) -> i32 {\n'
                '    let ok = std::panic::catch_unwind(|| {\n' + calls_text + '    }).is_ok();\n'
                '    if !ok {\n        std::process::exit(101);\n    }\n'
                '    println!("\\n@@NONCE@@");\n    0\n}\n')
    source = RUST_PRELUDE + RUST_EXTERNAL_USE.sub("", code) + "\n" + body
    return {"files": {"main.rs": source}, "sentinel_file": "main.rs", "epilogue": epilogue,
            "remove_before_run": ["main.rs"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [tc.tools[0], "--edition", "2021", "-C", "debuginfo=0",
                                "-C", "opt-level=1", "-o", "main", "main.rs"]},
                      {"name": "run", "argv": ["./main"], "limits": limits.for_run()}]}
