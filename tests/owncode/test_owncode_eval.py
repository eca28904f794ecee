"""Issue 24, items 2 and 3: the own-code eval scores a model that copies the held-out reference as
perfect and one that answers nothing as worst; the paired comparison finds a planted difference
and says so in words, and says "no significant difference" when there is none. Real repos made by
the test, the real OpenAI-compatible test server, the real sandbox, a real tiny local model."""
from __future__ import annotations

import math

import pytest

from evals.owncode.compare import compare_owncode
from evals.owncode.run import OwnCodeConfig, OwnCodeError, run_owncode
from pipeline import jobs
from pipeline.models.templates import user_text
from pipeline.pairs.export import freeze_dataset
from tests.openai_server import OpenAIServer
from tests.owncode_helpers import curate_and_label, make_code_repos


@pytest.fixture
def dataset(store, tmp_path):
    curate_and_label(store, make_code_repos(tmp_path / "repos"))
    return freeze_dataset(store, "mine", {"status": ["approved"]}, split={"test_fraction": 0.3})


def _references(store, dataset) -> dict[str, str]:
    rows = store.pairs_by_ids(store.pair_ids(), columns="id, instruction, input, output")
    return {user_text(r["instruction"], r["input"]): r["output"] for r in rows}


@pytest.fixture
def served(store, dataset):
    """Three endpoint 'models': one copies the reference, one writes its first half, one says nothing."""
    refs = _references(store, dataset)

    def last_user(body):
        return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")

    copy = OpenAIServer(reply=lambda body: f"Here it is:\n```python\n{refs[last_user(body)]}\n```\n")
    half = OpenAIServer(reply=lambda body: "\n".join(refs[last_user(body)].splitlines()[:2]))
    empty = OpenAIServer(reply=lambda body: "")
    with copy, half, empty:
        for name, server in (("copier", copy), ("halfway", half), ("mute", empty)):
            store.register_model(name, "openai", "test-model", endpoint=server.url)
        yield


def _eval(store, dataset, model, **kw) -> dict:
    eval_id = run_owncode(store, OwnCodeConfig(model=model, dataset=f"{dataset['name']}@{dataset['version']}",
                                               allow_weak_sandbox=True, **kw), log=lambda m: None)
    return store.get_owncode_eval(eval_id)


def test_copying_the_reference_scores_perfect_and_answering_nothing_scores_worst(store, dataset, served):
    best, worst = _eval(store, dataset, "copier"), _eval(store, dataset, "mute")
    n = dataset["split_info"]["test"]
    assert best["status"] == "done" and best["metrics"]["items"] == n >= 10
    m = best["metrics"]
    assert m["chrf"] == pytest.approx(100.0) and m["exact"] == 1.0 and m["valid"] == 1.0
    assert m["doctest"] == 1.0 and m["doctest_items"] >= n - 2     # the shared helper has no doctest
    assert m["loss"] is None and m["empty"] == 0                    # an endpoint has no loss
    w = worst["metrics"]
    assert w["chrf"] == 0.0 and w["exact"] == 0.0 and w["valid"] == 0.0 and w["doctest"] == 0.0
    assert w["empty"] == n
    item = store.owncode_items(best["id"])[0]      # the drill-down: what was asked, written and expected
    assert item["answer"].strip() == item["reference"].strip() and item["raw"].startswith("Here it is:")
    assert item["prompt"][-1]["role"] == "user" and item["instruction"]


def test_a_planted_difference_is_found_and_said_in_words(store, dataset, served, capsys):
    copier, halfway = _eval(store, dataset, "copier"), _eval(store, dataset, "halfway")
    result = compare_owncode(store, halfway["id"], copier["id"])
    assert result["headline"].startswith("copier beats halfway on your held-out code: +")
    chrf = result["metrics"][0]
    assert chrf["metric"] == "chrf" and chrf["significant"] and chrf["ci"][0] > 0 and chrf["p"] < 0.01
    assert chrf["wins"] == result["items"]
    doctest = next(r for r in result["metrics"] if r["metric"] == "doctest")
    assert doctest["mean_b"] == 1.0 and doctest["mean_a"] == 0.0

    from evals.__main__ import main

    assert main(["owncode", "compare", str(halfway["id"]), str(copier["id"])]) == 0
    out = capsys.readouterr().out
    assert "copier beats halfway on your held-out code" in out and "95 % CI" in out


def test_the_same_answers_are_no_significant_difference(store, dataset, served):
    a, b = _eval(store, dataset, "copier"), _eval(store, dataset, "copier")
    result = compare_owncode(store, a["id"], b["id"])
    assert result["headline"].startswith(f"no significant difference on {result['items']} items in chrF")


def test_evals_of_different_datasets_are_not_compared(store, dataset, served):
    other = freeze_dataset(store, "other", {"status": ["approved"]}, split={"test_fraction": 0.3, "split_seed": 5})
    a = _eval(store, dataset, "copier")
    b = store.get_owncode_eval(run_owncode(store, OwnCodeConfig(model="copier", dataset="other", doctests=False),
                                           log=lambda m: None))
    assert other["id"] == b["dataset_id"]
    with pytest.raises(OwnCodeError, match="same held-out items"):
        compare_owncode(store, a["id"], b["id"])


def test_a_dataset_without_a_test_split_is_refused_with_what_to_do(store, served):
    from tests.pairs_helpers import add_pairs

    add_pairs(store, [{"instruction": "x", "output": "def x(): pass", "status": "approved"}], prefix="small")
    freeze_dataset(store, "small", {"status": ["approved"], "origin": ["import"]})
    with pytest.raises(OwnCodeError, match="no test split"):
        run_owncode(store, OwnCodeConfig(model="copier", dataset="small"), log=lambda m: None)


@pytest.mark.slow
def test_a_local_model_runs_as_a_job_and_scores_the_references_loss(store, dataset, tiny_model_dir):
    store.register_model("tiny", "local", str(tiny_model_dir), template="alpaca")
    params = OwnCodeConfig(model="tiny", dataset="mine", max_new_tokens=16, limit=4, doctests=False).to_dict()
    job_id = store.create_job("owncode_eval", params)
    jobs.run(job_id, store)
    job = store.get_job(job_id)
    assert job["status"] == "done", job["error"]
    items = store.owncode_items(job["result"]["eval_id"])
    assert len(items) == 4
    assert all(i["loss"] is not None and math.isfinite(i["loss"]) and i["loss"] > 0 for i in items)
    assert all(0.0 <= i["chrf"] < 100.0 for i in items) and {i["doctest"] for i in items} == {None}
    assert job["result"]["metrics"]["loss_items"] == 4



def test_an_eval_can_store_its_verdict_against_a_baseline(store, dataset, served, capsys):
    copier = _eval(store, dataset, "copier")
    halfway = _eval(store, dataset, "halfway", compare_with=copier["id"])
    assert halfway["metrics"]["verdict"].startswith("copier beats halfway on your held-out code")
    assert halfway["metrics"]["significant"] is True

    from evals.__main__ import main

    assert main(["owncode", "show", str(halfway["id"]), "--items"]) == 0
    out = capsys.readouterr().out
    assert f"verdict vs eval {copier['id']}: copier beats halfway" in out and "--- reference" in out


def test_a_baseline_of_another_dataset_is_refused_before_any_answer(store, dataset, served):
    freeze_dataset(store, "other", {"status": ["approved"]}, split={"test_fraction": 0.3, "split_seed": 5})
    other = store.get_owncode_eval(run_owncode(store, OwnCodeConfig(model="mute", dataset="other", doctests=False),
                                               log=lambda m: None))
    with pytest.raises(OwnCodeError, match="same held-out items"):
        run_owncode(store, OwnCodeConfig(model="copier", dataset="mine", compare_with=other["id"]), log=lambda m: None)
    assert len(store.list_owncode_evals()) == 1


def test_the_drill_down_and_the_compare_page_text(store, dataset, served):
    from evals.owncode.report import eval_rows, item_detail, item_rows
    from studio.owncode_panel import comparison_markdown, dataset_choices, eval_choices

    copier, halfway = _eval(store, dataset, "copier"), _eval(store, dataset, "halfway")
    assert dataset_choices(store) == ["mine@1"] and len(eval_choices(store)) == 2
    assert [r[1] for r in eval_rows(store)] == ["halfway", "copier"]
    rows = item_rows(store, halfway["id"])
    assert rows[0][2] <= rows[-1][2]                                  # lowest chrF first
    d = item_detail(store, halfway["id"], rows[0][0])
    assert d["diff"].startswith("--- reference (human-written)") and "exact no" in d["scores"]
    assert item_detail(store, copier["id"], rows[0][0])["diff"] == "(identical)"
    text = comparison_markdown(store, eval_choices(store)[1], eval_choices(store)[0])
    assert text.startswith("### copier beats halfway on your held-out code")
    assert "| chrF |" in text and "| reference loss" not in text      # endpoints have no loss
