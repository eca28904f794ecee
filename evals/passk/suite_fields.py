"""The fields a published multilingual suite gives, used the way its own harness uses them.

    code, test = apply_suite_fields("go", code, test, task["meta"])   # before build_job's builders

HumanEvalPack (bigcode-evaluation-harness, `humanevalpack.py`) builds each program from the
completed prompt plus the row's own fields; we do the same, so canonical solutions pass and
buggy ones fail for the reason the suite intends, not because a field was left out:
  Go    `test_setup` (package clause, `testing` and testify imports) opens the one test file,
        minus the imports the answer already has; the standard packages the answer, its
        prompt or the test use on a non-comment line but never import (math, strings, fmt,
        strconv, time, bytes, regexp, sort, math/rand, crypto/md5: what the `import` field can
        name) are imported; then the answer without its own package clause, then the test.
  Rust  every `declaration` line the answer lacks (its `use` lines: HashMap, max, rand,
        regex, md5 …) is put first, except the signature of a function the answer defines.
  C++   an answer's own `int main` and what follows is cut (the test brings its main).
  Java  an empty `public class Main { }` the answer leaves is removed (the test brings Main).
Suites in other shapes (no such fields) pass through unchanged.
"""
from __future__ import annotations

import re

GO_STANDARD = ("math", "strings", "fmt", "strconv", "time", "bytes", "regexp", "sort", "math/rand",
               "crypto/md5")


def apply_suite_fields(language: str, code: str, test: str, meta: dict | None) -> tuple[str, str]:
    meta = meta or {}
    if language == "go" and meta.get("test_setup"):
        return _go(code, test, meta["test_setup"])
    if language == "rust" and meta.get("declaration"):
        return _rust(code, meta["declaration"]), test
    if language == "cpp" and ("declaration" in meta or "test_setup" in meta or "import" in meta):
        return code.split("int main")[0], test
    if language == "java" and ("declaration" in meta or "import" in meta):
        return code.replace("public class Main {\n    }", ""), test
    return code, test


def _go(code: str, test: str, setup: str) -> tuple[str, str]:
    setup = setup + "\n"
    for line in setup.split("\n"):
        name = line.replace("import", "").replace("(", "").replace(")", "").strip()
        if name.startswith('"') and name in code:
            setup = setup.replace(name, "")
    body = re.sub(r"^\s*package\s+\w+\s*$", "", code, count=1, flags=re.M) \
        if re.search(r"^\s*package\s", setup, re.M) else code
    program = setup + body + "\n" + test
    missing = []
    for pkg in GO_STANDARD:
        short = pkg.split("/")[-1]
        if f'"{pkg}"' not in program and any(f"{short}." in line and not line.strip().startswith("//")
                                             for line in program.split("\n")):
            missing.append(f'"{pkg}"')
    imports = "import (\n" + "\n".join(f"    {p}" for p in missing) + "\n)\n" if missing else ""
    package = re.search(r"^\s*package\s+(\w+)", setup, re.M)
    # The whole program is the test file, as the suite's harness has it; main.go only names the package.
    return f"package {package.group(1) if package else 'main'}\n", setup + imports + body + "\n" + test


def _rust(code: str, declaration: str) -> str:
    head = ""
    for line in declaration.split("\n"):
        stripped = line.strip()
        if not stripped or stripped in code:
            continue
        if stripped.startswith("fn") and stripped.split("(")[0] in code:
            continue   # the answer defines this function itself
        head += stripped + "\n"
    return head + code
