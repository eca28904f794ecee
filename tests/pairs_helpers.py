"""Setup shared by the pairs, clean and import tests: pairs, repos and snippets through the
store's own methods (imported pairs, curated snippets, labelled pairs)."""
from __future__ import annotations

import hashlib
import random

WORDS = ("node player enemy score velocity timer health sprite signal path queue index buffer total "
         "count item value result target offset delta speed level state frame input output").split()


def add_pairs(store, rows: list[dict], prefix: str = "t") -> list[int]:
    """Insert rows (instruction/input/output/language/status/...) as imported pairs; returns ids."""
    refs = [f"{prefix}:{i}" for i in range(len(rows))]
    inserted, _ = store.insert_imported_pairs([dict(r, import_ref=ref) for r, ref in zip(rows, refs)])
    assert inserted == len(rows)
    return store.pair_ids()[-len(rows):]


def add_repo_with_snippets(store, full_name: str, codes: list[str], language: str = "gdscript") -> tuple[int, list[int]]:
    [repo_id], _ = store.add_repos([{"full_name": full_name, "url": f"https://github.com/{full_name}",
                                     "language": language, "engine_version": "4.x"}])
    store.replace_snippets(repo_id, [{
        "path": f"scripts/f{i}.gd", "language": language, "kind": "function", "name": f"f{i}", "code": code,
        "lines": code.count("\n") + 1, "content_hash": hashlib.sha1(code.encode()).hexdigest()}
        for i, code in enumerate(codes)])
    rows, _ = store.list_snippets(repo_id=repo_id, limit=10_000)
    return repo_id, sorted(s["id"] for s in rows)


def label(store, snippet_id: int, instruction: str, output: str, *, labeller: str = "test-model",
          status: str = "draft", language: str = "gdscript", repo_id: int | None = None) -> int:
    """A labelled pair written by the labeller's own write path."""
    return store.record_label({
        "instruction": instruction, "output": output, "origin": "label", "snippet_id": snippet_id,
        "repo_id": repo_id, "language": language, "status": status, "labeller": labeller,
        "prompt_version": "describe@1", "raw_reply": instruction, "tokens_in": 10, "tokens_out": 5, "cost": 0.0})


def small_function(rng: random.Random, name: str | None = None) -> str:
    """A plausible small Python function with random names, for dedup/search tests."""
    name = name or "_".join(rng.sample(WORDS, 2))
    args = rng.sample(WORDS, 2)
    lines = [f"def {name}({', '.join(args)}):"]
    for _ in range(rng.randint(3, 8)):
        a, b, c = rng.sample(WORDS, 3)
        lines.append(f"    {a} = {b} + {c} * {rng.randint(1, 99)}")
    lines.append(f"    return {rng.choice(WORDS)}")
    return "\n".join(lines) + "\n"
