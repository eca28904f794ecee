"""Issue 10, failure 10: after `make toolchains`, programs shaped like the standard multilingual
suites' canonical solutions run in the sandbox for every language, with the libraries those
suites use (Boost and OpenSSL for C++, js-md5 for JavaScript, rand/regex/md5 for Rust, testify
for Go). A right completion passes and a wrong one fails; nothing is skipped: a missing
toolchain fails with what to run. Also: Rust tests with comments and attributes are found."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals.passk.execute import ExecutionPool, execute_samples
from evals.passk.languages import available_languages, libraries, rust_test_functions
from evals.sandbox import SandboxLimits

ROOT = Path(__file__).resolve().parents[2]
MD5_HELLO = "3e25960a79dbc69b674cd4ec67a72c62"  # md5("Hello world")

# language: (prompt, right completion, wrong completion, test)
TASKS = {
    "python": ("import hashlib\ndef to_md5(text):\n", "    return hashlib.md5(text.encode()).hexdigest()\n",
               "    return text\n", f"assert to_md5('Hello world') == '{MD5_HELLO}'\n"),
    "js": ("const md5 = require('js-md5');\nconst toMd5 = (text) => {\n", "  return md5(text);\n}\n",
           "  return text;\n}\n", f"console.assert(toMd5('Hello world') === '{MD5_HELLO}')\n"),
    "cpp": ("#include<string>\n#include<openssl/md5.h>\n#include<boost/any.hpp>\n#include<list>\nusing namespace std;\n"
            "string to_md5(string text){\n",
            "    unsigned char md[16];\n    MD5((unsigned char*)text.c_str(), text.length(), md);\n"
            "    char out[33];\n    for (int i = 0; i < 16; i++) sprintf(out + 2 * i, \"%02x\", md[i]);\n"
            "    return string(out);\n}\n"
            "int count_ints(list<boost::any> xs){ int n = 0; for (auto &x : xs) if (x.type() == typeid(int)) n++; return n; }\n",
            "    return text;\n}\nint count_ints(list<boost::any> xs){ return 0; }\n",
            "#undef NDEBUG\n#include<assert.h>\nint main(){\n"
            f"    assert (to_md5(\"Hello world\") == \"{MD5_HELLO}\");\n"
            "    assert (count_ints({1, 2.5, string(\"a\"), 3}) == 2);\n}\n"),
    "java": ("import java.math.BigInteger;\nimport java.security.*;\nclass Solution {\n"
             "    public String toMd5(String text) throws NoSuchAlgorithmException {\n",
             "        byte[] d = MessageDigest.getInstance(\"MD5\").digest(text.getBytes());\n"
             "        return String.format(\"%032x\", new BigInteger(1, d));\n    }\n}\n",
             "        return text;\n    }\n}\n",
             "public class Main {\n    public static void main(String[] args) throws Exception {\n"
             f"        if (!new Solution().toMd5(\"Hello world\").equals(\"{MD5_HELLO}\")) throw new AssertionError();\n"
             "    }\n}\n"),
    "rust": ("fn main(){}\nuse std::collections::HashMap;\nuse rand::Rng;\nuse regex::Regex;\nuse md5;\n"
             "fn to_md5(text: &str) -> String {\n",
             "    let _r: u8 = rand::thread_rng().gen();\n"
             "    let re = Regex::new(r\"^[A-Za-z ]+$\").unwrap();\n    assert!(re.is_match(text));\n"
             "    format!(\"{:x}\", md5::compute(text.as_bytes()))\n}\n",
             "    text.to_string()\n}\n",
             "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    // the canonical digest\n"
             "    #[allow(non_snake_case)]\n    fn test_to_md5() {\n"
             f"        assert_eq!(to_md5(\"Hello world\"), \"{MD5_HELLO}\");\n    }}\n}}\n"),
    "go": ("package main\n\nimport (\n\t\"crypto/md5\"\n\t\"fmt\"\n)\n\nfunc ToMd5(text string) string {\n",
           "\treturn fmt.Sprintf(\"%x\", md5.Sum([]byte(text)))\n}\n",
           "\t_ = md5.Sum\n\treturn fmt.Sprint(text)\n}\n",
           "package main\n\nimport (\n\t\"testing\"\n\t\"github.com/stretchr/testify/assert\"\n)\n\n"
           "func TestToMd5(t *testing.T) {\n\tassert := assert.New(t)\n"
           f"\tassert.Equal(\"{MD5_HELLO}\", ToMd5(\"Hello world\"))\n}}\n"),
}


@pytest.fixture(scope="module")
def pool():
    with ExecutionPool(workers=2, limits=SandboxLimits(timeout_s=20, compile_timeout_s=120)) as p:
        yield p


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(TASKS))
def test_suite_shaped_programs_run_with_their_libraries(language, pool):
    assert language in available_languages(), f"no {language} toolchain here: run `make toolchains`"
    prompt, right, wrong, test = TASKS[language]
    task = {"task_id": "t", "language": language, "prompt": prompt, "test": test}
    samples = [{"task_id": "t", "sample_idx": i, "completion": c} for i, c in enumerate((right, wrong))]
    verdicts = execute_samples({"t": task}, samples, pool=pool)
    assert [v["verdict"] for v in verdicts] == ["passed", "failed"], [(v["verdict"], v["error"]) for v in verdicts]


def test_every_library_the_suites_need_is_present():
    missing = [name for name, present in libraries().items() if not present]
    assert not missing, f"missing {', '.join(missing)}: run `make toolchains`"


def test_rust_tests_with_comments_and_attributes_between_test_and_fn_are_found():
    test = ("#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    // why this case matters\n"
            "    /* block comment */\n    #[allow(unused)]\n    fn checks_sum() { assert!(true); }\n"
            "    #[test]\n    #[ignore]\n    fn slow_one() {}\n    #[test] pub fn inline() {}\n}\n")
    body, calls = rust_test_functions(test)
    assert calls == ["tests::checks_sum", "tests::inline"]
    assert "pub fn checks_sum" in body and "pub fn slow_one" in body and "#[test]" not in body


def test_passk_protections_lists_toolchains_and_libraries():
    out = subprocess.run([sys.executable, "-m", "evals", "passk", "protections"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for language in ("python", "js", "cpp", "java", "rust", "go"):
        assert f"\n  {language}" in out.stdout
    assert "js-md5" in out.stdout and "Go testify" in out.stdout
