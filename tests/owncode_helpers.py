"""Real git repositories of small Python functions with docstrings (some with doctests), curated,
labelled from their docstrings and approved through the studio's own code: the raw material of the
held-out split and own-code eval tests. Every repo also carries its own lightly edited copy of
one shared helper, as real code copied between projects does: near-duplicates across repos."""
from __future__ import annotations

import random
from pathlib import Path

from tests.curate_repos import make_repo

WORDS = ("node player enemy score velocity timer health sprite signal path queue index buffer total "
         "count item value result target offset delta speed level state frame").split()
EXPRESSIONS = ("{a} * {n} + {b}", "({b} - {n}) * {a}", "{a} // {m} + {b} % {m}", "max({a}, {b}) - {n}",
               "abs({a} - {b}) + {n}", "min({a}, {n}) * {m}", "{a} + {b} * {n} - {m}")
SHARED_HELPER = '''def clamp_value(x, low, high):
    """Limit a number to the closed interval from low to high, counting how often it had to."""
    if low > high:
        raise ValueError("the interval from low to high is empty")
    clipped = 0
    if x < low:
        clipped = clipped + 1
        x = low
    if x > high:
        clipped = clipped + 1
        x = high
    history = [x, low, high, clipped]
    if len(history) > LIMIT:
        history = history[-4:]
    return x, clipped, history
'''


def random_function(rng: random.Random, name: str) -> tuple[str, str]:
    """(source with a docstring holding one doctest, the function's code) — random statements over
    random names, so two of them share few 5-token shingles."""
    a, b = rng.sample(WORDS, 2)
    params, current, body = (a, b), a, []
    for k in range(rng.randint(3, 6)):
        var = f"{rng.choice(WORDS)}_{k}"
        expr = rng.choice(EXPRESSIONS).format(a=current, b=b, n=rng.randint(2, 9), m=rng.randint(2, 5))
        body.append(f"    {var} = {expr}")
        current = var
    body.append(f"    return {current} + {b}")
    code = f"def {name}({', '.join(params)}):\n" + "\n".join(body) + "\n"
    scope: dict = {}
    exec(code, scope)
    x, y = rng.randint(1, 9), rng.randint(1, 9)
    doc = (f'    """Combine {a} and {b} into the {rng.choice(WORDS)} {rng.choice(WORDS)} of {name}.\n\n'
           f"    >>> {name}({x}, {y})\n    {scope[name](x, y)!r}\n    \"\"\"\n")
    return code.replace(":\n", ":\n" + doc, 1), code


def make_code_repos(root: Path, repos: int = 6, files: int = 2, per_file: int = 3, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for r in range(repos):
        content = {}
        for f in range(files):
            content[f"pkg{r}/mod{f}.py"] = "\n\n".join(
                random_function(rng, f"f{r}_{f}_{i}")[0] for i in range(per_file))
        # the shared helper, with one constant changed per repo: a near-duplicate across repos
        content[f"pkg{r}/util.py"] = SHARED_HELPER.replace("LIMIT", str(10 + r)).replace(
            "counting how", f"in project {r}, counting how")
        paths.append(make_repo(root / f"repo{r}", [("initial", content)]))
    return paths


def curate_and_label(store, repo_paths: list[Path]) -> list[int]:
    """Add each folder as a local repo, extract its functions, label them from their docstrings and
    approve them; returns the pair ids."""
    from pipeline.curate.job import CurateConfig, add_local_repo, curate_repo
    from pipeline.label.labeller import LabelConfig, run_labelling

    for path in repo_paths:
        repo_id = add_local_repo(store, str(path))
        cfg = CurateConfig(repo_ids=[repo_id], min_lines=1, keep_clones=True)
        curate_repo(store, store.repos_to_curate(ids=[repo_id])[0], cfg)
        run_labelling(store, LabelConfig(model="docstring", repo=str(repo_id)), log=lambda m: None)
    store.bulk_set_status({"status": ["draft"]}, "approved")
    return store.pair_ids()
