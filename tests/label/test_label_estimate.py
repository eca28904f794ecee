"""The estimate before a run: tokens (method named), dollars from the price table, the budget note."""
from __future__ import annotations

import math

from pipeline.label.cost import count_message_tokens, token_method
from pipeline.label.labeller import LabelConfig, estimate_labelling, make_plan, project_context
from tests.label_helpers import add_repo, add_snippets


def endpoint(store, price=(2.0, 8.0, 0.5)):
    store.register_model("remote", "openai", "remote-model", endpoint="http://127.0.0.1:9/v1")
    if price:
        store.set_price("remote-model", *price)


def test_estimate_counts_prompt_tokens_and_prices_them(store):
    add_snippets(store, 5)
    endpoint(store)
    cfg = LabelConfig(model="remote", expected_output_tokens=50)
    est = estimate_labelling(store, cfg)
    plan = make_plan(store, cfg)
    tokens_in = sum(count_message_tokens(plan.messages(s)) for s in plan.snippets)
    assert (est.snippets, est.tokens_in, est.tokens_out) == (5, tokens_in, 250)
    assert math.isclose(est.cost, (tokens_in * 2.0 + 250 * 8.0) / 1e6)
    assert est.method == token_method() and est.method in est.summary()
    assert "chars/4" in est.method or "tiktoken" in est.method


def test_batch_estimate_applies_the_discount(store):
    add_snippets(store, 5)
    endpoint(store)
    plain = estimate_labelling(store, LabelConfig(model="remote"))
    batch = estimate_labelling(store, LabelConfig(model="remote", batch=True))
    assert math.isclose(batch.cost, plain.cost * 0.5) and "Batch API" in batch.summary()


def test_over_budget_says_how_far_the_run_will_get(store):
    add_snippets(store, 10)
    endpoint(store)
    full = estimate_labelling(store, LabelConfig(model="remote"))
    est = estimate_labelling(store, LabelConfig(model="remote", budget_usd=full.cost * 0.45))
    assert "over the $" in est.summary() and "stop after about 4 snippets" in est.summary()


def test_unknown_price_is_reported_not_guessed(store):
    add_snippets(store, 2)
    endpoint(store, price=None)
    est = estimate_labelling(store, LabelConfig(model="remote"))
    assert not est.price_known and "cost unknown" in est.summary() and "add a price" in est.summary()


def test_local_and_docstring_labellers_cost_nothing(store):
    add_snippets(store, 2, docstring="# adds")
    store.register_model("tiny", "local", "/nowhere")
    assert estimate_labelling(store, LabelConfig(model="tiny")).cost == 0.0
    est = estimate_labelling(store, LabelConfig(model="docstring"))
    assert (est.snippets, est.cost) == (2, 0.0) and "free" in est.summary()


def test_nothing_left_to_label_says_so(store):
    endpoint(store)
    assert "nothing to label" in estimate_labelling(store, LabelConfig(model="remote")).summary()


def test_prompt_names_language_and_godot_version_from_the_repo(store):
    repo = add_repo(store, "octo/game", "4.x")
    add_snippets(store, 1, language="gdscript", repo_id=repo)
    endpoint(store)
    plan = make_plan(store, LabelConfig(model="remote"))
    user = plan.messages(plan.snippets[0])[-1]["content"]
    assert "GDScript function `snippet_0`" in user and "func snippet_0():" in user
    assert "Godot 4.x project octo/game" in user
    assert project_context({"language": "python", "path": "a.py"}) == "Project context: the code is from the project, file a.py."
