"""Offline labellers: a snippet's own docstring, and a local model through pipeline.models.generate."""
from __future__ import annotations

import pytest

from pipeline.label.labeller import LabelConfig, make_plan, run_labelling
from pipeline.models import GenParams, generate

QUIET = {"log": lambda message: None}


def add(store, name, docstring):
    code = f"def {name}():\n    return 1\n"
    return store.db["snippets"].insert({"path": f"{name}.py", "language": "python", "kind": "function",
                                        "name": name, "code": code, "docstring": docstring,
                                        "content_hash": name}).last_pk


def test_docstring_labeller_uses_the_dropped_comment_and_says_so(store):
    a = add(store, "jump", "# Makes the player jump.\n# Only on the floor.")
    b = add(store, "blank", "#\n#")
    add(store, "nodoc", None)
    result = run_labelling(store, LabelConfig(model="docstring"), **QUIET)
    rows = {p["snippet_id"]: p for p in store.db["pairs"].rows}
    assert set(rows) == {a, b}  # a snippet without a docstring is not selected
    assert rows[a]["instruction"] == "Makes the player jump.\nOnly on the floor."
    assert (rows[a]["origin"], rows[a]["labeller"], rows[a]["prompt_version"]) == ("docstring", "docstring", "docstring")
    assert rows[a]["output"] == "def jump():\n    return 1\n" and rows[a]["cost"] == 0
    assert rows[b]["status"] == "failed" and "empty" in rows[b]["error"]
    assert (result["labelled"], result["failed"]) == (1, 1)
    assert run_labelling(store, LabelConfig(model="docstring"), **QUIET)["labelled"] == 0


@pytest.mark.slow
def test_local_model_labels_each_snippet_with_its_own_generation(store, tiny_model_dir):
    ids = [add(store, f"fn_{i}", None) for i in range(3)]
    store.register_model("tiny", "local", str(tiny_model_dir))
    config = LabelConfig(model="tiny", concurrency=3, max_new_tokens=6)
    plan = make_plan(store, config)
    expected = generate(plan.model, [plan.messages(s) for s in plan.snippets], GenParams(max_new_tokens=6, batch_size=3))
    result = run_labelling(store, config, **QUIET)
    rows = list(store.db["pairs"].rows_where(order_by="snippet_id"))
    assert [r["snippet_id"] for r in rows] == ids
    assert [r["raw_reply"] for r in rows] == expected  # aligned: reply i belongs to snippet i
    assert all(r["labeller"] == "tiny" and r["cost"] == 0 and r["tokens_in"] > 0 for r in rows)
    assert result["labelled"] + result["failed"] == 3
    assert all((r["status"] == "draft") == bool(r["instruction"]) for r in rows)
