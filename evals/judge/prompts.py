"""The judge's prompts, one per mode, as data; `PROMPT_VERSION` is stored with every judged eval.

Each prompt ends by naming the exact verdict format `verdicts.py` parses, because a judge that is
told the format once, at the end, follows it most often (MT-bench's finding). Contestants' answers
are fenced and labelled by position only, never by model name, so the judge cannot favour a name.
"""
from __future__ import annotations

PROMPT_VERSION = "judge@1"
SYSTEM_LABELS = "ABCDE"          # multi-system mode shows up to five answers

SYSTEM = ("You are an impartial expert reviewer of code written by AI assistants. Judge correctness "
          "first, then how well the answer follows the instruction, then clarity. Do not let the "
          "length of an answer or the order in which answers are shown influence you.")


def _task(item: dict, with_reference: bool = True) -> str:
    lang = f" ({item['language']})" if item.get("language") else ""
    text = f"[Category: {item['category']}{lang}]\n[Instruction]\n{item['instruction']}\n"
    if with_reference and item.get("reference"):
        text += f"\n[Reference answer — a correct solution to compare against]\n{item['reference']}\n"
    return text


def _answer(label: str, text: str) -> str:
    return f"\n[{label}]\n<<<\n{text.strip()}\n>>>\n"


def single_messages(item: dict, answer: str) -> list[dict]:
    """MT-bench single-answer grading, reference-guided when the item has a reference."""
    guide = (" Compare it with the reference answer, which is correct; an answer that differs in "
             "behaviour is wrong." if item.get("reference") else "")
    user = (_task(item) + _answer("The assistant's answer", answer)
            + f"\nRate the assistant's answer on a scale of 1 to 10.{guide} First explain your rating in "
              "a few sentences, then give it on the last line exactly as: Rating: [[N]]")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def pairwise_messages(item: dict, first: str, second: str) -> list[dict]:
    """MT-bench pairwise: which of two answers is better; the run asks again with them swapped."""
    user = (_task(item) + _answer("Assistant A's answer", first) + _answer("Assistant B's answer", second)
            + "\nWhich assistant answered better? Explain briefly, then give your verdict on the last line "
              "exactly as one of: [[A]] if A is better, [[B]] if B is better, [[C]] for a tie.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def multi_messages(item: dict, answers: list[str]) -> list[dict]:
    """DreamerGPT: up to five systems' answers side by side, each scored 0–10 with a reason."""
    labels = SYSTEM_LABELS[:len(answers)]
    shown = "".join(_answer(f"System {label}", text) for label, text in zip(labels, answers))
    lines = "\n".join(f"System {label}: N/10 - reason" for label in labels)
    user = (_task(item) + shown
            + f"\nScore every system from 0 to 10 with a one-sentence reason. Reply with exactly these "
              f"lines and nothing else:\n{lines}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def rubric_messages(item: dict, answer: str) -> list[dict]:
    """godot-dodo's rubric, less syntax (the validity checker fills that column, not the judge)."""
    user = (_task(item) + _answer("The assistant's answer", answer)
            + "\nScore two things from 1 to 10. Functionality: does the code do what the instruction "
              "asks, for the stated engine or language version? Verbosity: is it as short as it can be "
              "while staying clear (10 = no needless code or prose)? Explain briefly, then end with "
              "exactly these two lines:\nFunctionality: [[N]]\nVerbosity: [[N]]")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def contestant_messages(item: dict) -> list[dict]:
    """What a contestant model is asked: the instruction alone (never the reference)."""
    lang = f" Answer in {item['language']}." if item.get("language") and item["language"] != "text" else ""
    return [{"role": "user", "content": item["instruction"] + lang}]
