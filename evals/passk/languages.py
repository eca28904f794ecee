"""Languages pass@k can execute: toolchain detection and how a task + completion becomes a job.

    available_languages()            # ['cpp', 'java', 'js', 'python', 'rust'] on this machine
    build_job("python", code, test, SandboxLimits())   # -> dict for SandboxWorker.run

`code` is the solution part (prompt + completion, plus imports), `test` the suite's test part.
Python runs in the warm forked interpreter; the others are written to files, compiled where
needed and exec'd. Each non-Python program gets an entry point of ours that reads the run's
nonce from stdin (a pipe the worker fills and closes: the nonce is never in a source file, a
binary, the environment or the command line) before any of the answer's code runs, keeps it in a
local variable, runs the tests and prints it after them; the worker counts a pass only when that
line is there and the process exited 0. How our entry point wraps the tests, per language:
  C++   the test's `main` is renamed by a #define, and our `main` reads, calls it, then prints;
  Java  a second class reads, calls Main.main, then prints;
  Rust  `#[test]` functions are made callable and a C `main` (crate is #![no_main]) calls each;
  JS    studio_harness.js reads, then runs main.js (solution + tests) as a script (so a top-level
        `return` cannot skip the tests) where our variables are out of reach; `console.assert`
        throws instead of only logging, and the `assert` module is restored before the tests.
  Go    the test binary is built (`go test -c`, GOPATH mode with Debian's testify), the
        sources removed, then run; a TestMain reads, runs the tests and prints when all passed.
Libraries the standard suites use come from `make toolchains` (Debian and npm only): Boost and
OpenSSL headers for C++ (linked with -lcrypto when used), `js-md5` under .toolchains/node (found
through NODE_PATH), the `rand`, `regex` and `md5` crates built offline from Debian's
librust-*-dev sources under .toolchains/rust (passed to rustc with --extern), Go's testify.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline import languages as registry
from pipeline.errors import StudioError

TOOLCHAINS_DIR = Path(__file__).resolve().parents[2] / ".toolchains"   # filled by `make toolchains`
GOPATH = "/usr/share/gocode"                                           # Debian's golang-*-dev sources
RUST_CRATES = ("rand", "regex", "md5")


# The languages pass@k can run, by execution key (pipeline/languages.py names them: `passk`).
EXTENSIONS = {"python": "py", "js": "js", "cpp": "cpp", "java": "java", "rust": "rs", "go": "go"}

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
JS_HARNESS = """\
'use strict';
// The run's nonce comes on stdin only; read before any answer code runs, kept in this module's scope.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const nonce = fs.readFileSync(0, 'utf8').trim();
globalThis.require = require;
globalThis.module = { exports: {} };   // suite code written as a CommonJS module still runs
globalThis.exports = globalThis.module.exports;
globalThis.__dirname = __dirname;
vm.runInThisContext(fs.readFileSync(path.join(__dirname, 'main.js'), 'utf8'), { filename: 'main.js' });
process.stdout.write('\\n' + nonce + '\\n');
"""
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
    """The execution key of a language, from any of its spellings ('javascript' → 'js')."""
    lang = (language or "python").strip().lower()
    return registry.passk_key(lang) or lang


def display_name(language: str) -> str:
    return registry.display_name(language)


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
    if go:
        go = os.path.realpath(go)
        goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, timeout=30).stdout.strip()
        found["go"] = Toolchain("go", True, _version([go, "version"]), (go,), goroot)
    else:
        found["go"] = Toolchain("go", False)
    return found


@lru_cache(maxsize=1)
def rust_crates() -> dict[str, str]:
    """crate -> rlib built by `make toolchains` (all of RUST_CRATES, or {} when not built)."""
    deps = TOOLCHAINS_DIR / "rust" / "target" / "release" / "deps"
    found = {}
    for name in RUST_CRATES:
        rlibs = sorted(deps.glob(f"lib{name}-*.rlib"), key=lambda p: p.stat().st_mtime)
        if rlibs:
            found[name] = str(rlibs[-1])
    return found if len(found) == len(RUST_CRATES) else {}


def node_modules() -> str | None:
    path = TOOLCHAINS_DIR / "node" / "node_modules"
    return str(path) if (path / "js-md5").is_dir() else None


def go_testify() -> bool:
    return os.path.isdir(os.path.join(GOPATH, "src", "github.com", "stretchr", "testify"))


def libraries() -> dict[str, bool]:
    """The suite libraries `make toolchains` provides, present or not (Settings, `passk protections`)."""
    return {"C++ Boost headers": os.path.isdir("/usr/include/boost"),
            "C++ OpenSSL headers": os.path.isfile("/usr/include/openssl/md5.h"),
            "JavaScript js-md5": node_modules() is not None,
            "Rust crates rand, regex, md5": bool(rust_crates()),
            "Go testify": go_testify()}


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
    """Languages whose programs can run here (Go also needs testify, from `make toolchains`)."""
    return sorted(lang for lang, tc in toolchains().items() if tc.available and (lang != "go" or go_testify()))


def toolchain_roots() -> list[str]:
    roots = [tc.root for tc in toolchains().values() if tc.available and tc.root]
    return roots + [str(TOOLCHAINS_DIR)] + ([GOPATH] if go_testify() else [])


def require(language: str) -> Toolchain:
    language = normalize_language(language)
    tc = toolchains().get(language)
    if tc is None:
        raise ToolchainMissing(f"pass@k cannot run {language!r} programs; supported: "
                               f"{', '.join(sorted(EXTENSIONS))}")
    if not tc.available:
        raise ToolchainMissing(f"no {display_name(language)} toolchain on this machine, so "
                               f"{display_name(language)} tasks cannot be executed (installed: "
                               f"{', '.join(available_languages())})")
    if language == "go" and not go_testify():
        raise ToolchainMissing("Go tasks need github.com/stretchr/testify, which is not installed here: "
                               "run `make toolchains` (Debian's golang-github-stretchr-testify-dev)")
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


def build_job(language: str, code: str, test: str, limits, *, task: dict | None = None) -> dict:
    """A request for SandboxWorker.run; raises ToolchainMissing when the language can't run.
    With `task` (its prompt, entry point, meta), Python tests see only the task's definitions and
    the entry point, and the other languages get the suite's own fields (see module doc)."""
    language = normalize_language(language)
    tc = require(language)
    if language == "python":
        job = {"kind": "python", "code": code, "test": test, "limits": limits.for_run()}
        if task and task.get("entry_point"):
            job.update(prompt=task.get("prompt") or "", entry_point=task["entry_point"])
            if (task.get("meta") or {}).get("expose"):   # more answer functions its tests call
                job["expose"] = list(task["meta"]["expose"])
        return job
    env = {"PATH": os.pathsep.join(dict.fromkeys(
        [os.path.dirname(t) for t in tc.tools] + ["/usr/local/bin", "/usr/bin", "/bin"])),
        "LANG": "C.UTF-8"}
    compile_limits = limits.for_run(timeout_s=limits.compile_timeout_s,
                                    memory_mb=max(limits.memory_mb, 4096),
                                    max_processes=max(limits.max_processes, 256))
    modules = node_modules() if language == "js" else None
    if modules:
        env["NODE_PATH"] = modules
    if language == "go":
        env.update(GO111MODULE="off", GOPATH=GOPATH, CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    if task:
        from evals.passk.suite_fields import apply_suite_fields

        code, test = apply_suite_fields(language, code, test, task.get("meta"))
    builder = {"js": _js, "cpp": _cpp, "java": _java, "rust": _rust, "go": _go}[language]
    job = builder(tc, code, test, limits, compile_limits)
    job.update(kind="steps", env=env)
    return job


def _go(tc, code, test, limits, compile_limits) -> dict:
    found = (re.search(r"^\s*package\s+(\w+)", code, re.M) or re.search(r"^\s*package\s+(\w+)", test, re.M))
    package = found.group(1) if found else "main"
    if not re.search(r"^\s*package\s", code, re.M):
        code = f"package {package}\n\n" + code
    if not re.search(r"^\s*package\s", test, re.M):
        test = f"package {package}\n\n" + test
    sentinel = (f'package {package}\n\nimport (\n\tstudiofmt "fmt"\n\tstudioio "io"\n\tstudioos "os"\n'
                '\tstudiostrings "strings"\n\tstudiotesting "testing"\n)\n'
                "\nfunc TestMain(m *studiotesting.M) {\n\tnonce, _ := studioio.ReadAll(studioos.Stdin)\n"
                "\tcode := m.Run()\n\tif code == 0 {\n"
                '\t\tstudiofmt.Println("\\n" + studiostrings.TrimSpace(string(nonce)))\n\t}\n\tstudioos.Exit(code)\n}\n')
    sources = ["main.go", "main_test.go", "studio_main_test.go"]
    run = limits.for_run(memory_mb=max(limits.memory_mb, 2048), max_processes=max(limits.max_processes, 128))
    return {"files": {"main.go": code, "main_test.go": test, "studio_main_test.go": sentinel},
            "nonce_stdin": True, "remove_before_run": sources,
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [tc.tools[0], "test", "-c", "-o", "main.test", *sources]},
                      {"name": "run", "argv": ["./main.test"], "limits": run}]}


def _js(tc, code, test, limits, compile_limits) -> dict:
    run = limits.for_run(max_processes=max(limits.max_processes, 64))
    heap = max(64, limits.memory_mb // 2)
    return {"files": {"main.js": JS_PRELUDE + code + JS_RESTORE + test + "\n", "studio_harness.js": JS_HARNESS},
            "nonce_stdin": True,
            "steps": [{"name": "run", "argv": [tc.tools[0], f"--max-old-space-size={heap}",
                                               "studio_harness.js"], "limits": run}]}


def _cpp(tc, code, test, limits, compile_limits) -> dict:
    epilogue = ("\n#undef main\nint main() {\n    static char __studio_nonce[128];\n"
                "    size_t __studio_n = std::fread(__studio_nonce, 1, sizeof(__studio_nonce) - 1, stdin);\n"
                "    __studio_test_main();\n    std::printf(\"\\n%.*s\", (int)__studio_n, __studio_nonce);\n"
                "    std::fflush(stdout);\n    return 0;\n}\n")
    source = CPP_HEADER + code + "\n#define main __studio_test_main\n" + test + epilogue
    return {"files": {"main.cpp": source}, "nonce_stdin": True,
            "remove_before_run": ["main.cpp"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [tc.tools[0], "-std=c++17", "-O0", "-w", "-o", "main", "main.cpp",
                                *(["-lcrypto"] if "openssl/" in source else [])]},
                      {"name": "run", "argv": ["./main"], "limits": limits.for_run()}]}


def _java(tc, code, test, limits, compile_limits) -> dict:
    java, javac = tc.tools
    jvm = ["-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
           "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=64m"]
    epilogue = ("\nclass StudioSentinel {\n    public static void main(String[] args) throws Throwable {\n"
                "        String nonce = new String(System.in.readAllBytes()).trim();\n"
                "        Main.main(args);\n        System.out.println();\n"
                "        System.out.println(nonce);\n        System.out.flush();\n    }\n}\n")
    heap = max(64, limits.memory_mb // 4)
    run = limits.for_run(memory_mb=max(limits.memory_mb, 1536),
                         max_processes=max(limits.max_processes, 128))
    return {"files": {"Main.java": JAVA_HEADER + code + "\n" + test + epilogue}, "nonce_stdin": True,
            "remove_before_run": ["Main.java"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [javac, *[f"-J{o}" for o in jvm], "-J-Xmx512m", "-nowarn",
                                "-encoding", "UTF-8", "-d", ".", "Main.java"]},
                      {"name": "run", "limits": run,
                       "argv": [java, *jvm, f"-Xmx{heap}m", "-Djava.io.tmpdir=.", "-cp", ".",
                                "StudioSentinel"]}]}


# Between `#[test]` and `fn`: blanks, comments and other attributes (`#[should_panic]`, `#[ignore]`).
_RUST_GAP = r"(?:\s+|//[^\n]*(?:\n|$)|/\*.*?\*/|#\[[^\]]*\])*"
_RUST_TEST = re.compile(r"#\[test\](" + _RUST_GAP + r")(?:pub(?:\([^)]*\))?\s+)?fn\s+(\w+)", re.S)


def rust_test_functions(test: str) -> tuple[str, list[str]]:
    """The test code with #[test] functions made public and callable, and their paths
    (`#[ignore]`d ones are made callable but not called)."""
    module = re.search(r"\bmod\s+(\w+)\s*\{", test)
    prefix = f"{module.group(1)}::" if module else ""
    names = [m.group(2) for m in _RUST_TEST.finditer(test) if "#[ignore" not in m.group(1)]
    body = re.sub(r"#\[cfg\(test\)\]\s*", "", test)
    body = _RUST_TEST.sub(lambda m: f"{m.group(1)}pub fn {m.group(2)}", body)
    return body, [prefix + n for n in names]


def _rust(tc, code, test, limits, compile_limits) -> dict:
    body, calls = rust_test_functions(test)
    if not calls:
        raise ToolchainMissing("the Rust test code has no #[test] functions to run")
    calls_text = "".join(f"        {c}();\n" for c in calls)
    # A panic must not unwind through the C entry point (that aborts with a long backtrace).
    epilogue = ('\n#[export_name = "main"]\npub extern "C" fn __studio_entry(_argc: i32, '
                '_argv: *const *const u8) -> i32 {\n'
                '    let mut nonce = String::new();\n'
                '    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut nonce);\n'
                '    let ok = std::panic::catch_unwind(|| {\n' + calls_text + '    }).is_ok();\n'
                '    if !ok {\n        std::process::exit(101);\n    }\n'
                '    println!("\\n{}", nonce.trim());\n    0\n}\n')
    crates = rust_crates()
    # Without the crates (no `make toolchains`) their `use` lines are dropped: most tasks never call them.
    source = RUST_PRELUDE + (code if crates else RUST_EXTERNAL_USE.sub("", code)) + "\n" + body
    extern = [a for name, rlib in crates.items() for a in ("--extern", f"{name}={rlib}")]
    search = ["-L", f"dependency={os.path.dirname(next(iter(crates.values())))}"] if crates else []
    return {"files": {"main.rs": source + epilogue}, "nonce_stdin": True,
            "remove_before_run": ["main.rs"],
            "steps": [{"name": "compile", "limits": compile_limits,
                       "argv": [tc.tools[0], "--edition", "2021", "-C", "debuginfo=0",
                                "-C", "opt-level=1", *search, *extern, "-o", "main", "main.rs"]},
                      {"name": "run", "argv": ["./main"], "limits": limits.for_run()}]}
