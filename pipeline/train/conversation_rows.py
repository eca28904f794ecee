"""Training rows for conversation pairs: loss on every assistant turn and on nothing else.

    segments("chat", messages, tokenizer)   # [(text, trained, eos)] in order
    row = tokenized_row("alpaca", example, tokenizer)   # {"input_ids", "assistant_masks"}

TRL's `assistant_only_loss` needs a chat template with `{% generation %}` markers, which most
models' templates (and the alpaca/octopack templates here) lack; this builds the same thing for
any template. The conversation is cut into segments by rendering growing prefixes — the text up
to each assistant turn's generation prompt, then up to the end of that turn — so a segment is
exactly what the template writes there, in the layout the chat and the judge use for a model's
multi-turn prompt (pipeline.chat.prompting.render_turns). Each segment is tokenized on its own
and marked: 1 for an assistant turn (its text, its end-of-turn, and for alpaca/octopack the EOS
closing the last answer), 0 for system and user text and the role headers. The rows are pre-tokenized
(`input_ids` + `assistant_masks`), which SFTTrainer turns into labels (-100 where the mask is 0)
and packs as it packs any row. A single-turn pair in the same dataset gets the same cut as its
prompt/completion row would (prompt 0, completion + EOS 1).

Not handled: a chat template that rewrites earlier turns when a later one is added (some
reasoning models drop old thinking) breaks the prefix property; such a dataset is refused with
a message rather than trained with shifted labels.
"""
from __future__ import annotations

from pipeline.models.templates import check_template, render
from pipeline.train import TrainError


def _body(messages: list[dict]) -> tuple[str, list[dict]]:
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], messages[1:]
    return "", messages


def segments(template: str, messages: list[dict], tokenizer=None) -> list[tuple[str, bool, bool]]:
    """[(text, trained, eos_after)]: the conversation as its template writes it, cut at turns."""
    check_template(template)
    system, body = _body(messages)
    if template == "chat" and tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return _template_segments(messages, tokenizer)
    out: list[tuple[str, bool, bool]] = []
    if template in ("alpaca", "octopack"):
        # The chat's multi-turn layout (pipeline.chat.prompting.render_turns): the system prompt
        # folded into the first question, one template block per turn, blocks joined by a blank
        # line. Only the last answer ends with EOS, so every earlier turn reads exactly as the chat
        # and the judge show it later (the template's stop words end an answer there).
        turns = [dict(m) for m in body]
        if system:
            turns[0]["content"] = f"{system}\n\n{turns[0]['content']}"
        for i in range(0, len(turns) - 1, 2):
            prompt = render(template, turns[i]["content"], "")
            full = render(template, turns[i]["content"], "", turns[i + 1]["content"])
            out += [(("\n\n" if i else "") + prompt, False, False), (full[len(prompt):], True, i + 2 >= len(turns))]
        return out
    for i in range(0, len(body) - 1, 2):  # ChatML: a chat model without a tokenizer template
        head = f"<|im_start|>system\n{system}<|im_end|>\n" if system and i == 0 else ""
        out += [(f"{head}<|im_start|>user\n{body[i]['content']}<|im_end|>\n<|im_start|>assistant\n", False, False),
                (f"{body[i + 1]['content']}<|im_end|>\n", True, False)]
    return out


def _template_segments(messages: list[dict], tokenizer) -> list[tuple[str, bool, bool]]:
    def render(upto: int, generation: bool) -> str:
        return tokenizer.apply_chat_template(messages[:upto], tokenize=False, add_generation_prompt=generation)

    out, done = [], ""
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt, full = render(k, True), render(k + 1, False)
        if not prompt.startswith(done) or not full.startswith(prompt):
            raise TrainError("the tokenizer's chat template rewrites earlier turns when a turn is added, so "
                             "assistant turns can't be located for the loss; train this dataset with the "
                             "alpaca or octopack template, or a template that keeps earlier turns as written")
        out += [(prompt[len(done):], False, False), (full[len(prompt):], True, False)]
        done = full
    return out


def render_conversation(template: str, messages: list[dict], tokenizer=None) -> str:
    """The whole training text of a conversation (exports' `text` column)."""
    eos = getattr(tokenizer, "eos_token", None) or ""
    return "".join(text + (eos if add_eos else "") for text, _, add_eos in segments(template, messages, tokenizer))


def tokenized_row(template: str, example: dict, tokenizer) -> dict:
    """{"input_ids", "assistant_masks"} for a frozen example, conversation or single turn."""
    if example.get("messages"):
        parts = segments(template, example["messages"], tokenizer)
    else:
        from pipeline.train.data import prompt_completion

        row = prompt_completion(template, example, tokenizer)
        parts = [(row["prompt"], False, False), (row["completion"], True, True)]
    ids: list[int] = []
    mask: list[int] = []
    for text, trained, add_eos in parts:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        if add_eos and tokenizer.eos_token_id is not None:
            piece = piece + [tokenizer.eos_token_id]
        ids += piece
        mask += [int(trained)] * len(piece)
    return {"input_ids": ids, "assistant_masks": mask}
