"""The own-code panel's handlers (Evals tab) and its verdict (Compare tab), called directly (no
browser) on a real store holding a frozen dataset with a held-out split and two scored evals of it:
the lists, the drill-down of one item, the paired verdict, the poller, and the refusals."""
from __future__ import annotations

import gradio as gr
import pytest

from pipeline.pairs.export import freeze_dataset
from studio import owncode_panel
from tests.pairs_helpers import add_pairs
from tests.studio.handlers import refused


def select(row: list) -> gr.SelectData:
    """A click on a table row, as Gradio hands it to a .select handler."""
    return gr.SelectData(None, {"index": [0, 0], "value": row[0] if row else None, "row_value": row})


def scored(store, dataset: dict, model: str, answer, job_id: int | None = None) -> int:
    """An own-code eval whose answer to each held-out item is `answer(reference)`, scored by hand:
    chrF 100 for an exact copy, else 40."""
    eval_id = store.create_owncode_eval(dataset, model, {}, job_id=job_id)
    items = []
    for ex in store.test_examples(dataset["id"]):
        text = answer(ex["output"])
        items.append({"position": ex["position"], "pair_id": ex["pair_id"], "language": "python",
                      "instruction": ex["instruction"], "reference": ex["output"], "answer": text, "raw": text,
                      "chrf": 100.0 if text == ex["output"] else 40.0 + ex["position"] % 3,
                      "exact": int(text == ex["output"]), "valid": 1, "detail": {"validity": []}})
    store.add_owncode_items(eval_id, items)
    store.update_owncode_eval(eval_id, status="done", metrics={"items": len(items)})
    return eval_id


@pytest.fixture
def dataset(store):
    add_pairs(store, [{"instruction": f"write function number {i} that returns {i * 7}", "language": "python",
                       "output": f"def f{i}(x):\n    y = x * {i} + {i * 3}\n    return y - {i}\n",
                       "status": "approved"} for i in range(40)])
    frozen = freeze_dataset(store, "mine", {"status": ["approved"]}, split={"test_fraction": 0.3})
    assert frozen["split_info"]["test"] == 12   # at least 10: enough for a verdict
    store.register_model("copier", "openai", "copy-model", endpoint="http://127.0.0.1:9/v1")
    return frozen


@pytest.fixture
def two_evals(store, dataset):
    first_line = scored(store, dataset, "oneliner", lambda ref: ref.splitlines()[0] + "\n")
    copy = scored(store, dataset, "copier", lambda ref: ref)
    return f"{first_line} · oneliner · mine@1", f"{copy} · copier · mine@1"


def test_an_empty_store_offers_nothing(studio_home):
    model, dataset, table, pick = owncode_panel.refresh()
    assert model == dataset == pick == gr.update(choices=[], value=None)
    assert table is None
    assert owncode_panel.refresh_compare() == (gr.update(choices=[], value=None),) * 2


def test_a_refresh_lists_models_datasets_with_a_split_and_evals_keeping_each_pick(store, two_evals):
    oneliner, copier = two_evals
    model, dataset, table, pick = owncode_panel.refresh(None, None, oneliner)
    assert model == gr.update(choices=["copier"], value="copier")
    assert dataset == gr.update(choices=["mine@1"], value="mine@1")
    assert [row[1] for row in table] == ["copier", "oneliner"]          # newest first
    assert pick == gr.update(choices=[copier, oneliner], value=oneliner)


def test_the_compare_pickers_default_to_the_two_newest_evals(store, two_evals):
    oneliner, copier = two_evals
    a, b = owncode_panel.refresh_compare()
    assert a == gr.update(choices=[copier, oneliner], value=oneliner)    # the one before: the baseline
    assert b == gr.update(choices=[copier, oneliner], value=copier)      # the newest: the candidate


def test_an_item_drills_down_to_reference_answer_and_diff(store, two_evals):
    oneliner, copier = two_evals
    rows = owncode_panel.pick_eval(oneliner)
    assert len(rows) == 12 and rows[0][2] <= rows[-1][2]                 # lowest chrF first
    scores, instruction, reference, answer, diff, notes = owncode_panel.show_item(oneliner, select(rows[0]))
    assert scores.startswith(f"**item {rows[0][0]}**") and "exact no" in scores
    assert instruction.startswith("write function number") and reference.startswith("def f")
    assert answer == reference.splitlines()[0] + "\n"
    assert diff.startswith("--- reference (human-written)") and notes == ""
    assert owncode_panel.show_item(copier, select(rows[0]))[4] == "(identical)"


def test_nothing_picked_changes_nothing(studio_home):
    assert owncode_panel.pick_eval(None) is None
    assert owncode_panel.show_item(None, select([3, 1])) == (gr.skip(),) * 6
    assert owncode_panel.show_item("1 · m · d@1", select([])) == (gr.skip(),) * 6


def test_the_paired_verdict_names_the_better_model(store, two_evals):
    oneliner, copier = two_evals
    text = owncode_panel.compare(oneliner, copier)
    assert text.startswith("### copier beats oneliner on your held-out code")
    assert "| chrF |" in text and "on 12 held-out items of mine@1" in text


def test_the_verdict_needs_both_evals(studio_home):
    refused(owncode_panel.compare, None, "2 · copier · mine@1",
            match="Pick the baseline and the candidate own-code evals")


def test_a_run_without_a_model_or_dataset_starts_nothing(store, dataset):
    refused(owncode_panel.start, "", "mine@1", 64, 1, match="model")
    refused(owncode_panel.start, "copier", "", 64, 1, match="dataset")
    assert store.count("jobs") == 0 and store.list_owncode_evals() == []


def test_the_poller_picks_the_eval_its_job_made(store, dataset, two_evals):
    oneliner, _ = two_evals
    status, timer, *rest = owncode_panel.poll(None, None, None, None)
    assert status == "" and not timer.active and rest == [gr.update()] * owncode_panel.REFRESH_SIZE
    job_id = store.create_job("owncode", {}, "own-code eval")
    status, timer, *rest = owncode_panel.poll(job_id, "copier", "mine@1", oneliner)
    assert "data-status='queued'" in status and timer.active
    assert rest == [gr.update()] * owncode_panel.REFRESH_SIZE
    made = scored(store, dataset, "copier", lambda ref: ref, job_id=job_id)
    store.finish_job(job_id, "done", only_if=("queued",))
    status, timer, _, _, table, pick = owncode_panel.poll(job_id, "copier", "mine@1", oneliner)
    assert "data-status='done'" in status and not timer.active
    assert len(table) == 3 and pick["value"] == f"{made} · copier · mine@1"
