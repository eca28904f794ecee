"""Constrained verdicts of a local judge (evals/judge/constrained.py): the free explanation is cut
where a verdict starts, each slot is the judge's own likeliest valid value — checked here against
log-probabilities computed independently, one unpadded sequence at a time — and the stored reply
parses, by the strict parser, to exactly that verdict."""
from __future__ import annotations

import pytest

from evals.judge.constrained import complete_verdict, explanation, template
from evals.judge.requests import read_verdict
from evals.judge.run import JudgeConfig, run_judging
from tests.judge.judge_server import FAST, JudgeServer, add_suite, register_models

MESSAGES = [{"role": "system", "content": "You judge code."},
            {"role": "user", "content": "Rate this answer: def add(a, b): return a + b"}]


def test_the_explanation_stops_where_any_verdict_begins():
    assert explanation("Correct and short.\nRating: [[7]] and later [[3]]") == "Correct and short."
    assert explanation("Looks fine [[ 8") == "Looks fine"
    assert explanation("A is better.\nSystem A: 8/10 - ok\nSystem B - 3") == "A is better."
    assert explanation("It works.\n  functionality is good") == "It works."
    assert explanation("No verdict at all, just prose.") == "No verdict at all, just prose."
    assert explanation("") == ""


def test_templates_name_exactly_the_format_the_strict_parser_reads():
    def fill(mode, systems, values):
        values, text = iter(values), ""
        for literal, options in template(mode, systems):
            text += literal
            if options:
                value = next(values)
                assert value in options
                text += value
        return text

    two = {"systems": ["x", "y"]}
    assert read_verdict("single", {"systems": ["x"]}, fill("single", 1, ["10"])) == {"scores": {"x": 10.0}}
    assert read_verdict("pairwise", two, fill("pairwise", 2, ["B"])) == {"winner": "y"}
    assert read_verdict("pairwise", two, fill("pairwise", 2, ["C"])) == {"winner": "tie"}
    assert read_verdict("rubric", {"systems": ["x"]}, fill("rubric", 1, ["3", "10"])) == {
        "scores": {"functionality": 3.0, "verbosity": 10.0}}
    three = {"systems": ["x", "y", "z"]}
    assert read_verdict("multi", three, fill("multi", 3, ["0", "10", "5"]))["scores"] == {"x": 0.0, "y": 10.0, "z": 5.0}


def _independent_logprob(model, tokenizer, prefix: str, continuation: str) -> float:
    import torch

    base = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prefix + continuation, add_special_tokens=False)["input_ids"]
    k = 0
    while k < min(len(ids), len(base)) and ids[k] == base[k]:
        k += 1
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    return float(sum(logp[t - 1, ids[t]] for t in range(max(1, k), len(ids))))


@pytest.mark.slow
def test_batched_continuation_scores_equal_one_sequence_at_a_time(tiny_model_dir):
    from pipeline import models

    spec = {"name": "tiny", "kind": "local", "path": str(tiny_model_dir)}
    options = [str(i) + "]]" for i in range(1, 11)]
    got = models.continuation_logprobs(spec, MESSAGES, options, reply_so_far="Fine.\nRating: [[")
    loaded = models.load(spec)
    prefix = loaded.render(MESSAGES) + "Fine.\nRating: [["
    want = [_independent_logprob(loaded.model, loaded.tokenizer, prefix, o) for o in options]
    assert got == pytest.approx(want, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("mode,systems", [("single", 1), ("pairwise", 2), ("rubric", 1), ("multi", 3)])
def test_each_slot_is_the_judges_own_likeliest_value(tiny_model_dir, mode, systems):
    from pipeline import models

    spec = {"name": "tiny", "kind": "local", "path": str(tiny_model_dir)}
    reply = complete_verdict(spec, MESSAGES, "The code adds two numbers.\n[[ maybe", mode, systems)
    assert reply.startswith("The code adds two numbers.\n") and "maybe" not in reply
    # Walk the template again: every chosen value must be the argmax among the valid ones.
    pieces, text = template(mode, systems), "The code adds two numbers."
    for i, (literal, options) in enumerate(pieces):
        text += literal
        if options:
            follow = pieces[i + 1][0] if i + 1 < len(pieces) else ""
            scores = models.continuation_logprobs(spec, MESSAGES, [o + follow for o in options], text)
            text += options[max(range(len(options)), key=scores.__getitem__)]
    assert reply == text
    request = {"systems": [f"m{i}" for i in range(systems)]}
    assert read_verdict(mode, request, reply)  # the strict parser reads it


@pytest.mark.slow
def test_a_local_judge_with_constrained_verdicts_scores_every_answer_and_marks_them(store, tiny_model_dir):
    with JudgeServer(lambda prompt, attempt: "unused") as server:
        register_models(store, server)
        store.register_model("tiny-judge", "local", str(tiny_model_dir))
        add_suite(store, 2)
        cfg = JudgeConfig(judge="tiny-judge", contestants=["alpha", "beta"], suite="judge-test", mode="pairwise",
                          max_new_tokens=8, concurrency=4, **FAST).validate()
        run_id = store.create_judge_run(cfg.suite, cfg.mode, cfg.judge, cfg.contestants, cfg.to_dict())
        result = run_judging(store, run_id, cfg, log=lambda m: None)
    rows = store.judgments(run_id)
    assert len(rows) == 4 and all(r["status"] == "ok" and r["constrained"] == 1 and r["attempts"] == 1 for r in rows)
    assert all(r["winner"] in ("alpha", "beta", "tie") and r["raw"].rstrip().endswith("]]") for r in rows)
    assert result["counts"]["ok"] == 4 and result["counts"]["ok (constrained verdict)"] == 4
    bias = store.get_judge_run(run_id)["metrics"]["bias"]
    assert bias["flip_rate"]["n"] == 2   # both orders of both items were judged
