"""The eval job end to end against a real OpenAI-compatible server on 127.0.0.1 that answers
with canned code (right for some tasks, wrong for others): samples stored, scored, resumable."""
from __future__ import annotations

import re

import pytest

from evals.passk.generate import EvalConfig
from evals.passk.suites import humaneval_tasks, import_humaneval
from pipeline import jobs
from pipeline.errors import ConfigError
from tests.openai_server import OpenAIServer

TASKS = {t["task_id"]: t for t in humaneval_tasks()[:4]}
WRONG = {"HumanEval/1"}


def task_in(text: str) -> dict:
    return next(t for t in TASKS.values() if re.search(rf"def {t['entry_point']}\(", text))


def chat_reply(body: dict) -> str:
    if "messages" not in body:
        task = task_in(body["prompt"])
        body_code = "    return None\n" if task["task_id"] in WRONG else task["canonical_solution"]
        return body_code + "\n\ndef unrelated():\n    pass\n"
    task = task_in(body["messages"][-1]["content"])
    if task["task_id"] in WRONG:
        return f"```python\ndef {task['entry_point']}(*args):\n    return None\n```"
    if task["task_id"] == "HumanEval/3":  # only the body, as some chat models answer
        return "Sure:\n```python\n" + task["canonical_solution"].replace("\n    ", "\n").lstrip() + "```"
    return "Here you go:\n```python\n" + task["prompt"] + task["canonical_solution"] + "```\nDone."


@pytest.fixture
def server():
    with OpenAIServer(reply=chat_reply) as s:
        yield s


@pytest.fixture
def model(store, server):
    store.register_model("canned", "openai", "test-model", endpoint=server.url)
    import_humaneval(store)
    return "canned"


def run_job(store, params: dict) -> dict:
    job_id = store.create_job("eval_generate", params)
    jobs.run(job_id, store)
    return store.get_job(job_id)


def test_a_chat_model_is_generated_scored_and_stored(store, model, server):
    job = run_job(store, EvalConfig(model=model, limit=4, batch_size=2).to_dict())
    assert job["status"] == "done", job["error"]
    eval_ = store.get_eval(job["result"]["eval_id"])
    assert eval_["status"] == "done"
    assert eval_["metrics"]["pass_at_k"]["1"] == pytest.approx(0.75)
    samples = {s["task_id"]: s for s in store.eval_samples(eval_["id"])}
    assert samples["HumanEval/1"]["verdict"] == "failed"
    assert samples["HumanEval/0"]["raw"].startswith("Here you go:")
    assert samples["HumanEval/0"]["mode"] == "full"
    assert samples["HumanEval/3"]["mode"] == "continuation"
    assert "```python" in samples["HumanEval/0"]["prompt"]
    assert len([r for r in server.requests if r["path"].endswith("/chat/completions")]) == 4


def test_plain_continuation_uses_stop_words_and_scores_the_same(store, model, server):
    job = run_job(store, EvalConfig(model=model, limit=4, prompt_format="continuation").to_dict())
    eval_id = job["result"]["eval_id"]
    assert store.get_eval(eval_id)["metrics"]["pass_at_k"]["1"] == pytest.approx(0.75)
    sample = store.eval_samples(eval_id, task_id="HumanEval/0")[0]
    assert "def unrelated" not in sample["completion"]
    assert "\ndef " in sample["stop_words"]
    assert server.requests[0]["body"]["stop"]  # the stop words reached the endpoint


def test_an_interrupted_job_resumes_without_asking_the_model_again(store, model, server):
    answer, down = server.reply, {"now": True}

    def flaky(body):  # the second batch (tasks 2 and 3) fails until the endpoint comes back
        text = body["messages"][-1]["content"]
        if down["now"] and not ("has_close_elements" in text or "separate_paren_groups" in text):
            raise ConnectionError("the endpoint fell over")
        return answer(body)

    server.reply = flaky
    job_id = store.create_job("eval_generate", EvalConfig(model=model, limit=4, batch_size=2).to_dict())
    assert jobs.run(job_id, store) == "failed"
    [eval_] = store.list_evals()
    assert eval_["status"] == "failed"
    assert eval_["error"].startswith("ModelError: ")
    asked_first = len(server.requests)
    down["now"] = False
    assert jobs.run(job_id, store) == "done"
    second = [r["body"]["messages"][-1]["content"] for r in server.requests[asked_first:]]
    assert len(second) == 2 and not any("has_close_elements" in text for text in second)
    eval_id = store.get_job(job_id)["result"]["eval_id"]
    assert len(store.eval_samples(eval_id)) == 4
    assert len(store.list_evals()) == 1


def test_generating_several_samples_needs_a_temperature(store, model):
    with pytest.raises(ConfigError, match="needs --temperature > 0"):
        EvalConfig(model=model, n_samples=5, temperature=0.0).validate()
