"""A judge behind the labelling tests' protocol-faithful server (tests/label_openai_server.py).

Contestants and the judge are endpoint models on one server; the reply depends on the model id:
contestant `alpha-model` answers briefly, `beta-model` at length (so length bias is measurable),
and `judge-model` gives the verdict `verdict(prompt, attempt)` returns (canned, realistic text).
Requests are keyed (for faults and payments) by the task id in the prompt plus, for the judge,
the order of the answers shown: "TASK-3 judge beta>alpha".
"""
from __future__ import annotations

import re

from tests.label_openai_server import LabelServer

TASK = re.compile(r"TASK-\d+")
AUTHOR = re.compile(r"(ALPHA|BETA) answer")


def answer(model: str, task: str) -> str:
    if model == "alpha-model":
        return f"ALPHA answer for {task}:\n```python\ndef f():\n    return 1\n```"
    return (f"BETA answer for {task}, explained at length because longer answers look thorough.\n"
            f"```python\ndef f():\n    value = 1\n    return value\n```\n" + "More words. " * 20)


def shown_order(prompt: str) -> list[str]:
    return [a.lower() for a in AUTHOR.findall(prompt.split("[Instruction]", 1)[-1])]


def key_of(prompt: str) -> str:
    task = (TASK.search(prompt) or [None])[0] or "unknown"
    if "[Instruction]" not in prompt:
        return f"{task} answer"
    return f"{task} judge {'>'.join(shown_order(prompt))}"


class JudgeServer(LabelServer):
    def __init__(self, verdict, **kwargs):
        super().__init__(**kwargs)
        self.name_of = key_of
        self.verdict = verdict

        def reply(body: dict, name: str, attempt: int) -> str:
            prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []))
            if body.get("model") != "judge-model":
                return answer(body.get("model"), (TASK.search(prompt) or ["TASK-?"])[0])
            return self.verdict(prompt, attempt)

        self.reply = reply


def add_suite(store, n: int = 4, name: str = "judge-test") -> dict:
    items = [{"id": f"t{i}", "category": "write-function" if i % 2 else "gdscript-godot4", "language": "python",
              "instruction": f"TASK-{i}: write a Python function f that returns 1.",
              "reference": "def f():\n    return 1"} for i in range(n)]
    return store.create_judge_suite(name, items)


def register_models(store, server, judge_price=(1.0, 2.0, 0.5)) -> None:
    for name, path in (("alpha", "alpha-model"), ("beta", "beta-model"), ("judge", "judge-model")):
        store.register_model(name, "openai", path, endpoint=server.base_url)
    if judge_price:
        store.set_price("judge-model", *judge_price)


FAST = dict(backoff_base_s=0.05, backoff_max_s=1.0, request_timeout_s=1.0)
