"""Issue 22, item 8: HumanEvalPack rows imported with `python -m evals passk --problems` use their
own fields (`test_setup`, `import`, `declaration`) the way bigcode's harness does: canonical
solutions pass and buggy ones fail in every language the toolchains cover, Go included."""
from __future__ import annotations

import json

import pytest

from evals.passk.execute import ExecutionPool, execute_samples
from evals.passk.languages import available_languages
from evals.passk.suites import load_suite_file
from evals.sandbox import SandboxLimits

pytestmark = pytest.mark.slow

GO_SETUP = "package main\n\nimport (\n    \"testing\"\n    \"github.com/stretchr/testify/assert\"\n)\n"
ROWS = {
    "go": [
        {"task_id": "Go/0", "entry_point": "HasCloseElements", "import": "import (\n    \"math\"\n)\n",
         "prompt": "import (\n    \"math\"\n)\n\n// Check if any two numbers are closer than threshold.\n"
                   "func HasCloseElements(numbers []float64, threshold float64) bool {\n",
         "declaration": "\nfunc HasCloseElements(numbers []float64, threshold float64) bool {\n",
         "canonical_solution": "    for i := 0; i < len(numbers); i++ {\n        for j := i + 1; j < len(numbers); j++ {\n"
                               "            if math.Abs(numbers[i]-numbers[j]) < threshold {\n                return true\n"
                               "            }\n        }\n    }\n    return false\n}\n",
         "buggy_solution": "    for i := 0; i < len(numbers); i++ {\n        for j := i + 1; j < len(numbers); j++ {\n"
                           "            if numbers[i]-numbers[j] < threshold {\n                return true\n"
                           "            }\n        }\n    }\n    return false\n}\n",
         "test_setup": GO_SETUP,
         "test": "func TestHasCloseElements(t *testing.T) {\n    assert := assert.New(t)\n"
                 "    assert.Equal(true, HasCloseElements([]float64{1.0, 2.0, 3.9, 4.0, 5.0, 2.2}, 0.3))\n"
                 "    assert.Equal(false, HasCloseElements([]float64{1.0, 2.0, 3.9, 4.0, 5.0, 2.2}, 0.05))\n"
                 "    assert.Equal(false, HasCloseElements([]float64{5.0, 1.0}, 1.0))\n}\n",
         "instruction": "Write HasCloseElements."},
        {"task_id": "Go/1", "entry_point": "Shout", "import": "",
         "prompt": "\n// Shout returns s in upper case, e.g. strings of letters.\nfunc Shout(s string) string {\n",
         "declaration": "\nfunc Shout(s string) string {\n",
         "canonical_solution": "    return strings.ToUpper(s)\n}\n",
         "buggy_solution": "    return strings.ToLower(s)\n}\n",
         "test_setup": GO_SETUP,
         "test": "func TestShout(t *testing.T) {\n    assert := assert.New(t)\n    assert.Equal(\"HEY\", Shout(\"hey\"))\n}\n",
         "instruction": "Write Shout."},
    ],
    "rust": [
        {"task_id": "Rust/0", "entry_point": "largest",
         "prompt": "fn main(){}\n\n/*\n The larger of two numbers.\n*/\nfn largest(a: i32, b: i32) -> i32{\n",
         "declaration": "\nuse std::{slice::Iter, cmp::{max, self}, mem::replace, collections::{HashSet, HashMap}, ops::Index, ascii::AsciiExt};\n"
                        "use rand::Rng;\nuse regex::Regex;\nuse md5;\nuse std::any::{Any, TypeId};\n\nfn largest(a: i32, b: i32) -> i32{\n",
         "canonical_solution": "    let mut seen: HashSet<i32> = HashSet::new();\n    seen.insert(a);\n    return max(a, b);\n}\n",
         "buggy_solution": "    let mut seen: HashSet<i32> = HashSet::new();\n    seen.insert(a);\n    return cmp::min(a, b);\n}\n",
         "test": "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn test_largest() {\n"
                 "        assert_eq!(largest(2, 7), 7);\n        assert_eq!(largest(9, 3), 9);\n    }\n}\n",
         "instruction": "Write largest."},
    ],
    "cpp": [
        {"task_id": "CPP/0", "entry_point": "twice",
         "prompt": "/*\nTwice x.\n*/\n#include<stdio.h>\nusing namespace std;\nint twice(int x){\n",
         "declaration": "#include<stdio.h>\nusing namespace std;\nint twice(int x){\n",
         "canonical_solution": "    return 2 * x;\n}\nint main() {\n    printf(\"%d\\n\", twice(2));\n}\n",
         "buggy_solution": "    return x + 2;\n}\n",
         "test": "#undef NDEBUG\n#include<assert.h>\nint main(){\n    assert (twice(5) == 10);\n}\n",
         "instruction": "Write twice."},
    ],
}


@pytest.fixture(scope="module")
def pool():
    with ExecutionPool(workers=2, limits=SandboxLimits(timeout_s=20, compile_timeout_s=120)) as p:
        yield p


@pytest.mark.parametrize("language", sorted(ROWS))
def test_canonical_solutions_pass_and_buggy_ones_fail(language, pool, tmp_path):
    assert language in available_languages(), f"no {language} toolchain here: run `make toolchains`"
    path = tmp_path / f"humanevalpack-{language}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS[language]))
    shape, lang, tasks = load_suite_file(path)
    assert (shape, lang) == ("humanevalpack", language)
    by_id = {t["task_id"]: t for t in tasks}
    samples = [{"task_id": t["task_id"], "sample_idx": i, "completion": c}
               for t in tasks for i, c in enumerate((t["canonical_solution"], t["meta"]["buggy_solution"]))]
    verdicts = execute_samples(by_id, samples, pool=pool)
    got = [(v["task_id"], v["sample_idx"], v["verdict"]) for v in verdicts]
    want = [(s["task_id"], s["sample_idx"], "passed" if s["sample_idx"] == 0 else "failed") for s in samples]
    assert got == want, [(v["task_id"], v["verdict"], (v["error"] or "")[:400]) for v in verdicts]
    assert all("undefined" not in (v["error"] or "") for v in verdicts)
