"""Issue 22, item 2: no secret the verdict depends on is readable by the program, in any language.
Each answer below searches everything it can read (its source files, its own binary or class
files, /proc/self/cmdline and environ, stdin) for the run's 32-hex nonce, prints every candidate
and exits 0 without running the tests; an `add` that returns 0 must still fail. One attack per
language; the worker runs a right answer afterwards."""
from __future__ import annotations

import pytest

from evals.passk.languages import available_languages, build_job
from evals.sandbox import SandboxLimits, SandboxWorker

pytestmark = pytest.mark.slow

LIMITS = SandboxLimits(timeout_s=20, compile_timeout_s=120, output_kb=64)

CPP_SCAN = r'''
#include <cctype>
#include <dirent.h>
#include <unistd.h>
static void scan(const char* path) {
    FILE* fp = fopen(path, "rb");
    if (!fp) return;
    std::string data; char buf[65536]; size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) data.append(buf, n);
    fclose(fp);
    size_t run = 0;
    for (size_t i = 0; i <= data.size(); i++) {
        char c = i < data.size() ? data[i] : ' ';
        if (isdigit((unsigned char)c) || (c >= 'a' && c <= 'f')) { run++; continue; }
        if (run == 32) printf("\n%s\n", data.substr(i - 32, 32).c_str());
        run = 0;
    }
}
int add(int a, int b) {
    const char* fixed[] = {"/proc/self/exe", "/proc/self/cmdline", "/proc/self/environ", "/dev/stdin"};
    for (auto f : fixed) scan(f);
    DIR* d = opendir(".");
    while (struct dirent* e = d ? readdir(d) : nullptr) scan(e->d_name);
    fflush(stdout);
    _exit(0);
}
'''

CASES = {
    "js": ("const add = (a, b) => {\n"
           "  const fs = require('fs');\n  let found = [];\n"
           "  const files = fs.readdirSync('.').concat(['/proc/self/cmdline', '/proc/self/environ', '/dev/stdin']);\n"
           "  for (const f of files) {\n"
           "    try { found.push(...(fs.readFileSync(f, 'latin1').match(/[0-9a-f]{32}/g) || [])); } catch (e) {}\n"
           "  }\n"
           "  process.stdout.write(found.map((x) => '\\n' + x + '\\n').join(''));\n  process.exit(0);\n};\n",
           "const add = (a, b) => {\n  return a + b;\n};\n",
           "console.assert(add(2, 3) === 5);\n"),
    "cpp": (CPP_SCAN, "int add(int a, int b) {\n    return a + b;\n}\n",
            "#include <cassert>\nint main() {\n    assert(add(2, 3) == 5);\n}\n"),
    "rust": ("fn scan(path: &str) {\n"
             "    let data = std::fs::read(path).unwrap_or_default();\n"
             "    let text: String = data.iter().map(|&b| if b.is_ascii_hexdigit() && !b.is_ascii_uppercase() { b as char } else { ' ' }).collect();\n"
             "    for word in text.split(' ') { if word.len() == 32 { println!(\"\\n{}\", word); } }\n}\n"
             "fn add(a: i32, b: i32) -> i32 {\n"
             "    for f in [\"/proc/self/exe\", \"/proc/self/cmdline\", \"/proc/self/environ\", \"/dev/stdin\"] { scan(f); }\n"
             "    for e in std::fs::read_dir(\".\").unwrap() { scan(e.unwrap().path().to_str().unwrap()); }\n"
             "    std::process::exit(0);\n}\n",
             "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
             "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn test_add() {\n"
             "        assert_eq!(add(2, 3), 5);\n    }\n}\n"),
    "java": ("class Solution {\n"
             "    static void scan(java.nio.file.Path p) {\n"
             "        try {\n"
             "            String text = new String(java.nio.file.Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);\n"
             "            java.util.regex.Matcher m = java.util.regex.Pattern.compile(\"[0-9a-f]{32}\").matcher(text);\n"
             "            while (m.find()) System.out.println(\"\\n\" + m.group());\n"
             "        } catch (Exception e) { }\n    }\n"
             "    public int add(int a, int b) {\n"
             "        try (var files = java.nio.file.Files.list(java.nio.file.Paths.get(\".\"))) { files.forEach(Solution::scan); } catch (Exception e) { }\n"
             "        for (String f : new String[] {\"/proc/self/cmdline\", \"/proc/self/environ\", \"/dev/stdin\"}) scan(java.nio.file.Paths.get(f));\n"
             "        System.out.flush();\n        Runtime.getRuntime().halt(0);\n        return 0;\n    }\n}\n",
             "class Solution {\n    public int add(int a, int b) {\n        return a + b;\n    }\n}\n",
             "public class Main {\n    public static void main(String[] args) {\n"
             "        if (new Solution().add(2, 3) != 5) throw new AssertionError();\n    }\n}\n"),
    "go": ("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"regexp\"\n)\n\n"
           "func Add(a, b int) int {\n"
           "\tfor _, f := range []string{\"/proc/self/exe\", \"/proc/self/cmdline\", \"/proc/self/environ\", \"/dev/stdin\"} {\n"
           "\t\tdata, _ := os.ReadFile(f)\n"
           "\t\tfor _, m := range regexp.MustCompile(\"[0-9a-f]{32}\").FindAll(data, -1) {\n"
           "\t\t\tfmt.Printf(\"\\n%s\\n\", m)\n\t\t}\n\t}\n\tos.Exit(0)\n\treturn 0\n}\n",
           "package main\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n",
           "package main\n\nimport (\n\t\"testing\"\n\t\"github.com/stretchr/testify/assert\"\n)\n\n"
           "func TestAdd(t *testing.T) {\n\tassert.Equal(t, 5, Add(2, 3))\n}\n"),
}


@pytest.fixture(scope="module")
def worker():
    with SandboxWorker(LIMITS) as w:
        yield w


@pytest.mark.parametrize("language", sorted(CASES))
def test_reading_the_marker_from_anything_the_program_can_read_does_not_pass(language, worker):
    assert language in available_languages(), f"no {language} toolchain here: run `make toolchains`"
    attack, right, test = CASES[language]
    result = worker.run(build_job(language, attack, test, LIMITS))
    assert result["status"] == "failed", (result["status"], result.get("error"), result.get("output", "")[-500:])
    assert "exited" in (result.get("error") or "") or "tests" in (result.get("error") or "")
    assert worker.run(build_job(language, right, test, LIMITS))["status"] == "passed"
