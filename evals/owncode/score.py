"""Scoring one answer against the human-written code it should have been: pure functions, plus
the reference's loss under a local model.

    chrf("def add(a, b):\\n    return a + b", "def add(a, b):\\n    return a + b")   # 100.0
    exact_match("def f():  return 1\\n", "def f(): return 1")                      # True
    doctest_source(reference)     # the reference's own `>>>` examples, or None
    doctest_job(answer, source)   # a python job for evals.sandbox that runs them against the answer

chrF (Popović 2015, sacrebleu's implementation, character n-grams up to 6 and word bigrams,
β = 2) is the similarity: it gives partial credit to an answer that names things the way the
reference does, which is what fine-tuning on someone's code should move. Exact match compares
the code with all whitespace runs collapsed (indentation style is not a different answer).
"""
from __future__ import annotations

import doctest
import functools
import re

_SPACE = re.compile(r"\s+")
WORST = {"chrf": 0.0, "exact": 0, "valid": 0, "doctest": "failed"}


def normalize_code(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def exact_match(answer: str, reference: str) -> bool:
    return bool(normalize_code(reference)) and normalize_code(answer) == normalize_code(reference)


def chrf(answer: str, reference: str) -> float:
    """sacrebleu's sentence chrF, 0–100 (an empty answer scores 0)."""
    if not (answer or "").strip():
        return 0.0
    return float(_chrf_metric().sentence_score(answer, [reference]).score)


@functools.lru_cache(maxsize=1)
def _chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF()


def validity(answer: str, language: str | None) -> tuple[int | None, list[str]]:
    """(1 valid / 0 invalid / None when the language has no checker here, error messages)."""
    from evals import validity as checker

    if not (answer or "").strip():
        return 0, ["empty answer"]
    try:
        result = checker.check(answer, language or "python")
    except (ValueError, KeyError, LookupError) as exc:
        return None, [f"not checkable: {exc}"]
    return int(result.valid), [f.message for f in result.findings if f.severity == "error"][:5]


def doctest_source(reference: str, language: str | None = "python", instruction: str = "") -> str | None:
    """The held-out function's own doctest examples as a doctest text, or None when it has none.
    They sit in the reference's docstring, or — for pairs labelled from their docstring, whose
    code is extracted without it — in the instruction."""
    if (language or "python").lower() not in ("python", "py", "python3"):
        return None
    examples = []
    for text in (*_docstrings(reference), instruction):
        try:
            examples = doctest.DocTestParser().get_examples(text or "")
        except ValueError:   # inconsistent indentation inside the docstring: not runnable as examples
            examples = []
        if examples:
            break
    if not examples:
        return None
    out = []
    for ex in examples:
        lines = ex.source.rstrip("\n").split("\n")
        out += [(">>> " if i == 0 else "... ") + line for i, line in enumerate(lines)]
        out += ex.want.rstrip("\n").split("\n") if ex.want else []
        out.append("")
    return "\n".join(out)


def _docstrings(code: str) -> list[str]:
    """The docstrings in Python code (a `>>>` outside one is not an example, and the docstring's
    closing quotes would otherwise read as expected output)."""
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(code or ""))
    except (SyntaxError, ValueError):
        return []
    kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [doc for node in ast.walk(tree) if isinstance(node, kinds) and (doc := ast.get_docstring(node))]


def doctest_test(source: str) -> str:
    """Test code for the sandbox's test process: run the examples against the solution's names
    (which reach it as proxies, see evals/sandbox/child.py) and fail unless all pass."""
    return (
        "import doctest as _doctest\n"
        f"_source = {source!r}\n"
        "_test = _doctest.DocTestParser().get_doctest(_source, dict(globals()), 'held-out examples', None, 0)\n"
        "_runner = _doctest.DocTestRunner(optionflags=_doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE)\n"
        "_runner.run(_test)\n"
        "assert _test.examples and _runner.failures == 0, "
        "f'{_runner.failures} of {len(_test.examples)} doctest examples failed'\n"
    )


def doctest_job(answer: str, source: str, limits) -> dict:
    from evals.passk.languages import build_job

    return build_job("python", answer, doctest_test(source), limits)


def reference_loss(model: str | dict, messages: list[dict], reference: str) -> float | None:
    """Mean negative log-likelihood per token of the human-written answer after the prompt, under a
    local model (None for endpoints). Past the model's context the prompt's start is cut, then the
    reference's.
    Lower is better: a model fine-tuned on this code should find its held-out code less surprising."""
    from pipeline import models

    spec = models.resolve(model)
    if spec["kind"] == "openai" or not (reference or "").strip():
        return None
    loaded = models.load(spec)
    tokenizer, model_ = getattr(loaded, "tokenizer", None), getattr(loaded, "model", None)
    if tokenizer is None or model_ is None:   # a backend without weights in this process (llama.cpp)
        return None
    import torch

    prefix = loaded.render(messages)
    base = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prefix + reference, add_special_tokens=False)["input_ids"]
    start = 0
    while start < min(len(ids), len(base)) and ids[start] == base[start]:
        start += 1
    start = max(1, start)
    if start >= len(ids):
        return None
    limit = getattr(model_.config, "max_position_embeddings", None)
    if limit and len(ids) > limit:   # longer than the context: keep its end, prompt first to go
        cut = len(ids) - limit
        ids, start = ids[cut:], max(1, start - cut)
    with loaded.lock, torch.inference_mode():
        tensor = torch.tensor([ids], device=loaded.device)
        logits = model_(input_ids=tensor).logits[0].float()
    logp = torch.log_softmax(logits[start - 1:len(ids) - 1], dim=-1)
    target = tensor[0, start:]
    return float(-logp.gather(1, target.unsqueeze(1)).mean())
