"""Prompt templates: how an instruction pair becomes the text a model trains on, chats with and
is evaluated on. They are data, stored by name with each dataset, run and eval, so all three
render prompts identically.

    render("alpaca", "Reverse a list", "", "def rev(xs): ...")   # training text
    render("alpaca", "Reverse a list", "")                        # prompt to generate from
    to_messages("Reverse a list", "", "def rev(xs): ...")         # chat form

For every template `render(name, i, x, out)` starts with `render(name, i, x)`, so the prompt part
of a training text (for loss on the response only) is always the rendering without an output.
"""
from __future__ import annotations

from pipeline.errors import ConfigError

ALPACA_PREAMBLE = ("Below is an instruction that describes a task{extra}. "
                   "Write a response that appropriately completes the request.")

TEMPLATES: dict[str, str] = {
    "alpaca": "Stanford Alpaca: '### Instruction:' / '### Input:' / '### Response:'",
    "chat": "chat messages (user/assistant); the tokenizer's chat template when one is given, "
            "ChatML otherwise",
    "octopack": "OctoPack / OctoCoder: 'Question: …' / 'Answer: …'",
}

# Where generation should stop so a model does not write the next turn by itself.
STOP_WORDS: dict[str, list[str]] = {
    "alpaca": ["\n### Instruction:", "\n### Input:", "\n### Response:"],
    "chat": ["<|im_end|>", "<|im_start|>"],
    "octopack": ["\nQuestion:", "\nAnswer:"],
}


def template_names() -> list[str]:
    return list(TEMPLATES)


def check_template(name: str) -> str:
    if name not in TEMPLATES:
        raise ConfigError(f"unknown prompt template {name!r}; use one of {', '.join(TEMPLATES)}")
    return name


def user_text(instruction: str, input: str = "") -> str:
    """What the person asks in a single message: the instruction, then its input if any."""
    instruction, input = (instruction or "").strip(), (input or "").strip()
    return f"{instruction}\n\n{input}" if input else instruction


def to_messages(instruction: str, input: str = "", output: str | None = None,
                system: str | None = None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_text(instruction, input)})
    if output is not None:
        messages.append({"role": "assistant", "content": output})
    return messages


def render(template_name: str, instruction: str, input: str = "", output: str | None = None,
           *, tokenizer=None, system: str | None = None) -> str:
    """The full text (output given) or the prompt to complete (output None)."""
    check_template(template_name)
    if template_name == "alpaca":
        return _alpaca(instruction, input, output)
    if template_name == "octopack":
        prompt = f"Question: {user_text(instruction, input)}\n\nAnswer:"
        return prompt if output is None else f"{prompt} {output}"
    return _chat(instruction, input, output, tokenizer, system)


def _alpaca(instruction: str, input: str, output: str | None) -> str:
    input = (input or "").strip()
    preamble = ALPACA_PREAMBLE.format(
        extra=", paired with an input that provides further context" if input else "")
    prompt = f"{preamble}\n\n### Instruction:\n{(instruction or '').strip()}\n\n"
    if input:
        prompt += f"### Input:\n{input}\n\n"
    prompt += "### Response:\n"
    return prompt if output is None else prompt + output


def _chat(instruction: str, input: str, output: str | None, tokenizer, system: str | None) -> str:
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        prompt = tokenizer.apply_chat_template(
            to_messages(instruction, input, None, system), tokenize=False,
            add_generation_prompt=True)
        if output is None:
            return prompt
        # Render the prompt once and append, so the prefix property holds for any template.
        end = getattr(tokenizer, "eos_token", None) or ""
        return prompt + output + end
    # ChatML, what SmolLM2 (the embedded default) and many small chat models use.
    text = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    text += f"<|im_start|>user\n{user_text(instruction, input)}<|im_end|>\n<|im_start|>assistant\n"
    return text if output is None else f"{text}{output}<|im_end|>\n"


def render_prompt(prompt, template: str, tokenizer) -> str:
    """A prompt as the text a local model continues, the same for every engine: a string as it is;
    chat messages through the tokenizer's chat template (template `chat`), else the layout the
    model was trained on (`chat` without a tokenizer template falls back to ChatML)."""
    if isinstance(prompt, str):
        return prompt
    if template == "chat" and tokenizer.chat_template:
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    instruction = "\n\n".join(m["content"] for m in prompt if m["role"] in ("system", "user"))
    return render(template, instruction, "")
