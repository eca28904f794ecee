"""What the judge is asked in each mode, as plain request dicts, and how its reply becomes a verdict.

    plan_requests("pairwise", items, ["a", "b"], answers, seed=0)
      -> [{"key": "pairwise:task-1:a|b:AB", "item": …, "systems": ["a", "b"], "messages": […]}, …]

Keys are stable across runs of the same judged eval, which is what lets a resume skip a request
whose reply is stored. Multi-system order is shuffled per item from (seed, item id), so it is the
same on resume and recorded in `systems`.
"""
from __future__ import annotations

import itertools
import random

from evals.judge import prompts
from evals.judge.verdicts import VerdictError, parse_multi, parse_pairwise, parse_rubric, parse_single

MODES = ("multi", "single", "pairwise", "rubric")
MAX_SYSTEMS = len(prompts.SYSTEM_LABELS)


def plan_requests(mode: str, items: list[dict], contestants: list[str], answers: dict, seed: int = 0) -> list[dict]:
    """Every request of a judged eval whose answers exist; `answers` maps (model, item id) -> text."""
    from evals.judge.multiturn import later_turn_messages

    out = []
    for item in items:
        have = [m for m in contestants if (m, item["id"]) in answers]
        if (item.get("turn") or 1) > 1:  # MT-bench's multi-turn prompts show the whole conversation
            pairs = [[m] for m in have] if mode == "single" else [list(p) for p in itertools.combinations(have, 2)]
            for systems in pairs:
                orders = [("", systems)] if mode == "single" else [("AB", systems), ("BA", systems[::-1])]
                for order, shown in orders:
                    messages = later_turn_messages(mode, item, shown, answers)
                    if messages is None:
                        continue
                    key = (f"single:{item['id']}:{shown[0]}" if mode == "single"
                           else f"pairwise:{item['id']}:{systems[0]}|{systems[1]}:{order}")
                    out.append({"key": key, "item": item, "systems": shown, "swapped": order == "BA",
                                "messages": messages})
            continue
        if mode == "multi":
            if len(have) < 1:
                continue
            shown = list(have)
            random.Random(f"{seed}:{item['id']}").shuffle(shown)
            out.append({"key": f"multi:{item['id']}", "item": item, "systems": shown,
                        "messages": prompts.multi_messages(item, [answers[(m, item["id"])] for m in shown])})
        elif mode == "pairwise":
            for a, b in itertools.combinations(have, 2):
                for order, (first, second) in (("AB", (a, b)), ("BA", (b, a))):
                    out.append({"key": f"pairwise:{item['id']}:{a}|{b}:{order}", "item": item,
                                "systems": [first, second], "swapped": order == "BA",
                                "messages": prompts.pairwise_messages(item, answers[(first, item["id"])],
                                                                      answers[(second, item["id"])])})
        else:
            build = prompts.single_messages if mode == "single" else prompts.rubric_messages
            for m in have:
                out.append({"key": f"{mode}:{item['id']}:{m}", "item": item, "systems": [m],
                            "messages": build(item, answers[(m, item["id"])])})
    return out


def read_verdict(mode: str, request: dict, reply: str) -> dict:
    """The judgment fields for a parsed reply; raises VerdictError when it is unparseable."""
    systems = request["systems"]
    if mode == "single":
        return {"scores": {systems[0]: parse_single(reply)["score"]}}
    if mode == "rubric":
        return {"scores": parse_rubric(reply)}
    if mode == "pairwise":
        verdict = parse_pairwise(reply)
        return {"winner": "tie" if verdict == "tie" else systems[0 if verdict == "A" else 1]}
    labels = list(prompts.SYSTEM_LABELS[:len(systems)])
    scores, reasons = parse_multi(reply, labels)
    return {"scores": {systems[i]: scores[lab] for i, lab in enumerate(labels)},
            "reasons": {systems[i]: reasons.get(lab, "") for i, lab in enumerate(labels)}}


__all__ = ["MODES", "MAX_SYSTEMS", "VerdictError", "plan_requests", "read_verdict"]
