"""From raw model output to the completion that gets executed.

    cut_at_stop(raw, stop_words("python"))               # base models: cut at the next def/class…
    extract_code(reply, "python", entry_point="add")     # chat models: the fenced block with add()
    finish_continuation(raw, "cpp")                      # brace languages: stop when the body closes

Stop words follow Codex/HumanEval for Python and MultiPL-E/CodeGeeX for the others. For brace
languages the completion also ends where the function the prompt opened is closed (bigcode's
HumanEvalPack rule: one brace open for C++/JS/Rust/Go, two for Java's class + method).
"""
from __future__ import annotations

import re

from evals.passk.languages import normalize_language
from pipeline.languages import spellings
from pipeline.models import cut_at_stop

STOP_WORDS = {
    "python": ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ", '\n"""',
               "\n@", "\n```"],
    "js": ["\nfunction ", "\n/*", "\n//", "\nconsole.log", "\nconst test", "\n```"],
    "cpp": ["\nint main", "\n/*", "\n//", "\n#include", "\n```"],
    "java": ["\npublic static void main", "\n```"],
    "rust": ["\n#[cfg(test)]", "\nfn main", "\n/*", "\n//", "\n```"],
    "go": ["\nfunc main(", "\n//", "\n```"],
}
END_OF_TEXT = ["<|endoftext|>", "<|im_end|>", "<|end|>", "</s>", "<|eot_id|>"]
OPEN_BRACES = {"java": 2, "cpp": 1, "js": 1, "rust": 1, "go": 1}
FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


def stop_words(language: str) -> list[str]:
    """Stop sequences for plain continuation in `language` (end-of-text markers included)."""
    return STOP_WORDS.get(normalize_language(language), ["\n```"]) + END_OF_TEXT


def close_function(text: str, language: str) -> str:
    """For brace languages: keep text up to the brace that closes what the prompt opened."""
    language = normalize_language(language)
    depth = OPEN_BRACES.get(language)
    if depth is None:
        return text
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[:i + 1] + "\n"
    return text


def finish_continuation(raw: str, language: str, stops: list[str] | None = None) -> str:
    """The executable completion of a base model's continuation."""
    text = cut_at_stop(raw, stop_words(language) if stops is None else stops + END_OF_TEXT)
    return close_function(text, language)


def extract_code(reply: str, language: str, entry_point: str | None = None) -> str:
    """The code in a chat reply: the fenced block in this language that defines `entry_point`
    (else the first such block, else the first block of any kind, else the whole reply)."""
    reply = cut_at_stop(reply, END_OF_TEXT)
    language = normalize_language(language)
    blocks = [(tag.lower(), body) for tag, body in FENCE.findall(reply)]
    if not blocks:
        return reply.strip("\n") + "\n"
    tags = spellings(language) | ({"c"} if language == "cpp" else set())   # models often fence C++ as c
    tagged = [b for t, b in blocks if t in tags]
    candidates = tagged or [b for t, b in blocks if not t] or [b for _, b in blocks]
    if entry_point:
        defining = [b for b in candidates if re.search(rf"\b{re.escape(entry_point)}\b", b)]
        candidates = defining or candidates
    return candidates[0].strip("\n") + "\n"


def completion_from_chat(reply: str, language: str, prompt: str,
                         entry_point: str | None = None) -> tuple[str, str]:
    """(completion, mode) from a chat reply: a whole program ("full"), or — when the model only
    wrote the function body — a continuation of the prompt."""
    code = extract_code(reply, language, entry_point)
    language = normalize_language(language)
    if language == "python":
        defines = entry_point and re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", code, re.M)
        if defines or not entry_point:
            return code, "full"
        body = code if code.startswith((" ", "\t")) else "".join(
            "    " + line if line.strip() else line for line in code.splitlines(True))
        return body, "continuation"
    if entry_point and entry_point in code:
        return code, "full"
    return close_function(code, language), "continuation"
