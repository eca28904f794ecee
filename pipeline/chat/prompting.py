"""From a conversation to the exact prompt a model gets: its template, every turn, cut to fit.

The template is the one the checkpoint was trained with: `codetune.json` beside the weights wins
(training writes it), then the models row's `template`. A local model gets one rendered string
(multi-turn alpaca / OctoPack / the tokenizer's chat template / ChatML), so tokens can be counted
exactly; an endpoint gets the messages and applies its own template, and its tokens are estimated.
When the history does not fit the context minus the answer's budget, the oldest turns go first
(the system prompt stays); a single message that is still too long keeps its end. Either way the
caller gets a notice to show.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.chat.settings import ChatSettings
from pipeline.models.templates import STOP_WORDS, TEMPLATES, render

ENDPOINT_CONTEXT = 8192       # assumed window of an endpoint when the person does not say
CHARS_PER_TOKEN = 3           # conservative estimate for code when the tokenizer is remote


@dataclass
class Prepared:
    prompt: str | list[dict]
    settings: ChatSettings     # max_new_tokens may be lowered to fit a small context
    stop: list[str]
    notice: str | None = None
    dropped_turns: int = 0
    template: str = "chat"


def checkpoint_template(path: str | None) -> str | None:
    """The template named by `codetune.json` in a checkpoint folder (None if there is none)."""
    if not path:
        return None
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    meta = folder / "codetune.json"
    try:
        template = json.loads(meta.read_text()).get("template") if meta.is_file() else None
    except (OSError, ValueError):
        return None
    return template if template in TEMPLATES else None


def model_template(spec: dict) -> str:
    if spec.get("kind") == "openai":
        return "chat"  # the server applies its own chat template
    return checkpoint_template(spec.get("path")) or spec.get("template") or "chat"


def render_turns(template: str, messages: list[dict], tokenizer=None) -> str:
    """The whole conversation in the model's layout, ending where its next answer starts."""
    if template == "chat":
        if tokenizer is not None and getattr(tokenizer, "chat_template", None):
            try:
                return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            except Exception:  # templates that reject a system role: fold it into the first message
                return tokenizer.apply_chat_template(_fold_system(messages), tokenize=False,
                                                     add_generation_prompt=True)
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + "<|im_start|>assistant\n"
    folded = _fold_system(messages)
    parts, pending = [], None
    for m in folded:
        if m["role"] == "user":
            pending = m["content"]
        elif pending is not None:
            parts.append(render(template, pending, "", m["content"]))
            pending = None
    parts.append(render(template, pending or "", ""))
    return "\n\n".join(parts)


def _fold_system(messages: list[dict]) -> list[dict]:
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system" and m["content"])
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest


def prepare(spec: dict, messages: list[dict], settings: ChatSettings) -> Prepared:
    """The prompt for `spec` from `messages` (system first, user last), cut to fit its context."""
    template = model_template(spec)
    stop = list(STOP_WORDS.get(template, [])) if template != "chat" else []
    if spec.get("kind") == "openai":
        context = settings.context_tokens or ENDPOINT_CONTEXT
        to_prompt = lambda msgs: msgs
        count = lambda msgs: sum(len(m["content"]) // CHARS_PER_TOKEN + 4 for m in msgs)
        tokenizer = None
    else:
        from pipeline.models import load

        loaded = load(spec)
        tokenizer = loaded.tokenizer
        context = settings.context_tokens or _model_context(loaded)
        to_prompt = lambda msgs: render_turns(template, msgs, tokenizer)
        count = lambda msgs: len(tokenizer(to_prompt(msgs), add_special_tokens=False)["input_ids"])
    notices = []
    if settings.max_new_tokens > context // 2:
        settings = replace(settings, max_new_tokens=max(1, context // 2))
        notices.append(f"max new tokens lowered to {settings.max_new_tokens} (the context is {context} tokens)")
    budget = context - settings.max_new_tokens
    system = [m for m in messages if m["role"] == "system" and m["content"]]
    turns = [m for m in messages if m["role"] != "system"]
    dropped = 0
    while count(system + turns) > budget and sum(m["role"] == "user" for m in turns) > 1:
        first_answer = next((i for i, m in enumerate(turns) if m["role"] == "assistant"), 0)
        turns = turns[first_answer + 1:]
        dropped += 1
    if dropped:
        notices.append(f"history cut to fit the {context}-token context: {dropped} earlier "
                       f"turn{'s' if dropped > 1 else ''} left out")
    over = count(system + turns) - budget
    if over > 0:
        turns, kept = _cut_last_message(turns, over, tokenizer)
        notices.append(f"your message was too long for the {context}-token context: only its last "
                       f"{kept} {'tokens' if tokenizer else 'characters'} were sent")
        while count(system + turns) > budget and system:  # a system prompt longer than the context
            system = []
            notices.append("the system prompt did not fit and was left out")
    return Prepared(to_prompt(system + turns), settings, stop, "; ".join(notices) or None, dropped, template)


def _model_context(loaded) -> int:
    config = getattr(loaded.model, "config", None)
    n = getattr(config, "max_position_embeddings", None)
    if not n:
        n = getattr(loaded.tokenizer, "model_max_length", 0)
    return int(n) if n and n < 1_000_000 else 2048


def _cut_last_message(turns: list[dict], over: int, tokenizer) -> tuple[list[dict], int]:
    last = dict(turns[-1])
    margin = 8  # template tokens merge at the cut; a few spare tokens avoid a second pass
    if tokenizer is None:
        keep = max(0, len(last["content"]) - (over + margin) * CHARS_PER_TOKEN)
        last["content"] = last["content"][len(last["content"]) - keep:]
    else:
        ids = tokenizer(last["content"], add_special_tokens=False)["input_ids"]
        keep = max(0, len(ids) - over - margin)
        last["content"] = tokenizer.decode(ids[len(ids) - keep:]) if keep else ""
    return turns[:-1] + [last], keep
