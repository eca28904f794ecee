"""MT-bench end to end: its question file and reference-answer file as published, contestants
answering turn by turn with their own earlier answers, turn-2 judge prompts that show the whole
conversation, verdicts in MT-bench's formats, results per turn and per category."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from evals.judge.run import JudgeConfig, run_judging
from evals.judge.suites import SuiteFileError, import_judge_suite
from evals.judge.verdicts import VerdictError, parse_pairwise, parse_single
from tests.judge.judge_server import FAST, JudgeServer, register_models

QUESTIONS = [  # lines of FastChat's data/mt_bench/question.jsonl
    {"question_id": 81, "category": "writing", "turns": [
        "Compose an engaging travel blog post about a recent trip to Hawaii.",
        "Rewrite your previous response. Start every sentence with the letter A."]},
    {"question_id": 111, "category": "math", "turns": [
        "The vertices of a triangle are at points (0, 0), (-1, 1), and (3, 3). What is the area of the triangle?",
        "What's area of the circle circumscribing the triangle?"], "reference": ["Area is 3", "5pi"]},
    {"question_id": 121, "category": "coding", "turns": [
        "Develop a Python program that reads all the text files under a directory and returns top-5 words.",
        "Can you parallelize it?"]},
]
REFERENCES = [  # lines of data/mt_bench/reference_answer/gpt-4.jsonl
    {"question_id": 81, "answer_id": "a1", "model_id": "gpt-4", "choices": [{"index": 0, "turns": ["blog", "A blog"]}],
     "tstamp": 1687221890.0},
    {"question_id": 121, "answer_id": "c1", "model_id": "gpt-4",
     "choices": [{"index": 0, "turns": ["use collections.Counter", "use concurrent.futures"]}], "tstamp": 1687221891.0},
]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def mt_bench(store, tmp_path):
    q = write(tmp_path / "question.jsonl", QUESTIONS)
    r = write(tmp_path / "gpt-4.jsonl", REFERENCES)
    import_judge_suite(store, "mt-bench", q, references=r)
    return "mt-bench"


def test_import_keeps_turns_and_references_by_question_id(store, mt_bench):
    items = {i["id"]: i for i in store.judge_items(mt_bench)}
    assert items["81"]["turns"] == QUESTIONS[0]["turns"] and items["81"]["instruction"] == QUESTIONS[0]["turns"][0]
    assert "references" not in items["81"]  # writing: MT-bench judges it without a reference
    assert items["111"]["references"] == ["Area is 3", "5pi"]  # the question's own
    assert items["121"]["references"] == ["use collections.Counter", "use concurrent.futures"]


def test_bad_files_are_refused_with_the_line(store, tmp_path):
    bad = write(tmp_path / "q.jsonl", [{"question_id": 1, "category": "x", "turns": "not a list"}])
    with pytest.raises(SuiteFileError, match="line 1: 'turns' must be a non-empty list"):
        import_judge_suite(store, "bad", bad)
    q = write(tmp_path / "question.jsonl", QUESTIONS)
    refs = write(tmp_path / "refs.jsonl", [{"question_id": 81, "choices": []}])
    with pytest.raises(SuiteFileError, match="refs.jsonl: not reference answers .* line 1"):
        import_judge_suite(store, "q", q, references=refs)
    assert store.list_judge_suites() == []


def test_verdicts_in_mt_bench_formats():
    assert parse_single("The answer is accurate and helpful.\n\nRating: [[8]]") == {"score": 8.0}
    assert parse_single('Rating: "[[6.5]]"') == {"score": 6.5}
    assert parse_single("The answer misses the edge case.\nRating: [4]") == {"score": 4.0}  # MT-bench's fallback
    with pytest.raises(VerdictError):
        parse_single("See step [3] of the answer.")  # a bracketed number alone is not a rating
    assert parse_pairwise("Assistant B follows the instruction. Final verdict: [[B]]") == "B"
    assert parse_pairwise("Both are equally good. [[C]]") == "tie"
    with pytest.raises(VerdictError):
        parse_pairwise("[[A]] at first, but on reflection [[B]]")


def contestants_and_judge(server, verdict):
    seen = []
    base = server.reply

    def reply(body, name, attempt):
        seen.append(body)
        return verdict("\n".join(m["content"] for m in body["messages"])) if body["model"] == "judge-model" \
            else base(body, name, attempt)

    server.reply = reply
    return seen


def run(store, suite, mode):
    cfg = JudgeConfig(judge="judge", contestants=["alpha", "beta"], suite=suite, mode=mode, **FAST).validate()
    run_id = store.create_judge_run(cfg.suite, cfg.mode, cfg.judge, cfg.contestants, cfg.to_dict())
    run_judging(store, run_id, cfg, log=lambda m: None)
    return run_id


def test_single_mode_answers_turn_by_turn_and_judges_each_turn(store, mt_bench):
    def verdict(prompt):
        return "Good follow-up.\nRating: [[7]]" if "second user question" in prompt else "Fine.\nRating: [[4]]"

    with JudgeServer(lambda p, a: "") as server:
        register_models(store, server)
        seen = contestants_and_judge(server, verdict)
        run_id = run(store, mt_bench, "single")
    asks = [b for b in seen if b["model"] != "judge-model"]
    second = [b for b in asks if len(b["messages"]) == 3]
    assert len(asks) == 12 and len(second) == 6
    # MT-bench's answer temperatures: writing sampled at 0.7, math and coding greedy
    assert {b.get("temperature", 0) for b in asks if "Hawaii" in b["messages"][0]["content"]} == {0.7}
    assert {b.get("temperature", 0) for b in asks if "Hawaii" not in b["messages"][0]["content"]} == {0}
    for body in second:  # turn 2 sees the model's own turn-1 answer
        own = "ALPHA answer" if body["model"] == "alpha-model" else "BETA answer"
        assert body["messages"][1]["role"] == "assistant" and body["messages"][1]["content"].startswith(own)
    judged = [b["messages"][1]["content"] for b in seen if b["model"] == "judge-model" and "second user" in
              b["messages"][1]["content"]]
    assert len(judged) == 6
    coding = next(p for p in judged if "parallelize" in p)
    assert QUESTIONS[2]["turns"][0] in coding and "use concurrent.futures" in coding
    assert len(re.findall(r"### Assistant:", coding)) == 2
    metrics = store.get_judge_run(run_id)["metrics"]
    assert metrics["counts"]["ok"] == 12
    assert metrics["turns"]["turn 1"]["alpha"] == {"mean": 4.0, "n": 3}
    assert metrics["turns"]["turn 2"]["beta"] == {"mean": 7.0, "n": 3}
    assert metrics["turns"]["turn 2 · coding"]["alpha"]["mean"] == 7.0
    assert set(metrics["categories"]) == {"writing", "math", "coding"}


def test_pairwise_mode_swaps_and_reads_mt_bench_verdicts(store, mt_bench):
    def verdict(prompt):  # prefers beta wherever it is shown
        first = re.search(r"### Assistant A:\n(ALPHA|BETA)", prompt) or re.search(r"\[Assistant A's answer\]\n<<<\n(ALPHA|BETA)", prompt)
        return "[[A]]" if first.group(1) == "BETA" else "[[B]]"

    with JudgeServer(lambda p, a: "") as server:
        register_models(store, server)
        contestants_and_judge(server, verdict)
        run_id = run(store, mt_bench, "pairwise")
    metrics = store.get_judge_run(run_id)["metrics"]
    assert metrics["counts"]["ok"] == 12 and metrics["bias"]["flip_rate"]["value"] == 0.0
    assert metrics["turns"]["turn 2"]["beta"]["wins"] == 6 and metrics["turns"]["turn 2"]["alpha"]["losses"] == 6


def test_cli_imports_mt_bench_with_references(studio_home, tmp_path):
    q = write(tmp_path / "question.jsonl", QUESTIONS)
    r = write(tmp_path / "gpt-4.jsonl", REFERENCES)
    result = subprocess.run([sys.executable, "-m", "evals", "judge", "import", str(q), "--references", str(r),
                             "--name", "mt-bench"], capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "3 items (3 multi-turn, 2 with a reference)" in result.stdout


def test_judge_panel_shows_the_turn_table(store, mt_bench):
    from studio.judge_panel import results_markdown

    with JudgeServer(lambda p, a: "") as server:
        register_models(store, server)
        contestants_and_judge(server, lambda prompt: "Rating: [[6]]")
        run_id = run(store, mt_bench, "single")
    text = results_markdown(store.get_judge_run(run_id))
    assert "**By turn**" in text and "| turn 2 · coding | 6.00 (n=1) | 6.00 (n=1) |" in text
    from evals.judge.cli import format_run  # what `python -m evals judge show ID` prints

    assert "  turn 2 · math                  alpha 6.00 (n=1) | beta 6.00 (n=1)" in format_run(store.get_judge_run(run_id))


def test_a_local_contestant_sees_its_own_first_answer_in_its_template(store, tiny_model_dir):
    """A local OctoPack checkpoint's turn-2 prompt is the chat's multi-turn layout with its own
    turn-1 answer in it (not just the questions)."""
    from evals.judge.multiturn import contestant_conversation, expand_turns, turn_prompt

    store.register_model("tiny", "local", str(tiny_model_dir), template="octopack", replace=True)
    turns = ["Add a and b.", "Now in GDScript."]  # short: the tiny model's context is 256 tokens
    item = expand_turns([{"id": "81", "category": "writing", "turns": turns}])[1]
    prompt, stop = turn_prompt(store.get_model("tiny"), contestant_conversation(item, ["MY FIRST ANSWER"]), 8)
    assert isinstance(prompt, str) and "\nQuestion:" in stop
    assert prompt.index(turns[0]) < prompt.index("MY FIRST ANSWER") < prompt.index(turns[1])
    assert prompt.endswith("Answer:")


def test_multi_and_rubric_modes_refuse_a_multi_turn_suite(store, mt_bench):
    from evals.judge.run import estimate_judging
    from pipeline.errors import ConfigError

    store.register_model("j", "openai", "judge-model", endpoint="http://127.0.0.1:9/v1")
    for mode in ("multi", "rubric"):
        with pytest.raises(ConfigError, match="single or pairwise"):
            estimate_judging(store, JudgeConfig(judge="j", contestants=["j"], suite=mt_bench, mode=mode))
