"""Training on conversations: loss on every assistant turn and on nothing else, through TRL's own
data preparation (packed and not), on the tiny model's tokenizer whose chat template has no
generation markers."""
from __future__ import annotations

import pytest

from pipeline.train.conversation_rows import segments
from pipeline.train.data import build_rows, dataset_examples

SYSTEM = "Answer in GDScript only."
QUESTIONS = ["Write a function that adds two numbers.", "Now print the sum when ready."]
ANSWERS = ["func add(a, b):\n\treturn a + b\n", "func _ready():\n\tprint(add(1, 2))\n"]
TALK = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTIONS[0]},
        {"role": "assistant", "content": ANSWERS[0]}, {"role": "user", "content": QUESTIONS[1]},
        {"role": "assistant", "content": ANSWERS[1]}]
EXAMPLES = [{"pair_id": 1, "instruction": QUESTIONS[0], "input": "", "output": ANSWERS[1], "messages": TALK},
            {"pair_id": 2, "instruction": "Reverse a string.", "input": "", "output": "def reverse(s):\n    return s[::-1]\n",
             "messages": None}]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def trainer_rows(tiny_model_dir, tokenizer, rows, packing):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"input_ids": r["input_ids"], "assistant_masks": r["assistant_masks"]} for r in rows])
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), processing_class=tokenizer, train_dataset=data,
        args=SFTConfig(output_dir="/tmp/unused", completion_only_loss=True, packing=packing, packing_strategy="bfd",
                       padding_free=packing, max_length=512, report_to="none", use_cpu=True))
    return list(trainer.train_dataset)


@pytest.mark.parametrize("template", ["alpaca", "octopack", "chat"])
def test_no_user_or_system_token_carries_a_label(template, tiny_model_dir, tokenizer):
    assert "{% generation %}" not in tokenizer.chat_template  # the case TRL's assistant_only_loss can't do
    rows, stats = build_rows(EXAMPLES, template, tokenizer, 512)
    assert stats["used"] == 2 and stats["conversations"] == 1
    prepared = trainer_rows(tiny_model_dir, tokenizer, rows, packing=False)
    for row, item in zip(rows, prepared):
        assert item["input_ids"] == row["input_ids"]
        assert [lab != -100 for lab in item["labels"]] == [bool(m) for m in row["assistant_masks"]]
    # token by token through the segments: user/system/headers unlabelled, each answer labelled
    item, position = prepared[0], 0
    for text, trained, eos in segments(template, TALK, tokenizer):
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"]) + int(eos)
        labels = item["labels"][position:position + n]
        assert all(lab != -100 for lab in labels) if trained else all(lab == -100 for lab in labels)
        position += n
    assert position == len(item["input_ids"])
    labelled = tokenizer.decode([t for t, lab in zip(item["input_ids"], item["labels"]) if lab != -100])
    assert ANSWERS[0] in labelled and ANSWERS[1] in labelled
    assert not any(text in labelled for text in (SYSTEM, *QUESTIONS))


def test_same_masks_as_trl_assistant_only_loss_where_the_template_has_generation_markers(tokenizer):
    """On a template with {% generation %} markers (what TRL's assistant_only_loss needs) that
    renders the same text, our rows equal the ids and assistant masks the tokenizer itself gives."""
    from pipeline.train.conversation_rows import tokenized_row

    marked = ("{% for m in messages %}{% if m['role'] == 'assistant' %}<|assistant|>{% generation %}"
              "{{ m['content'] }}\n{% endgeneration %}{% else %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endif %}"
              "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    assert tokenizer.apply_chat_template(TALK, tokenize=False, chat_template=marked) == \
        tokenizer.apply_chat_template(TALK, tokenize=False)
    theirs = tokenizer.apply_chat_template(TALK, chat_template=marked, tokenize=True, return_dict=True,
                                           return_assistant_tokens_mask=True)
    ours = tokenized_row("chat", {"messages": TALK}, tokenizer)
    assert ours["input_ids"] == list(theirs["input_ids"])
    assert ours["assistant_masks"] == list(theirs["assistant_masks"])


@pytest.mark.parametrize("template", ["alpaca", "octopack", "chat", "chatml"])
def test_training_text_before_each_answer_is_the_chat_prompt(template, tokenizer):
    """What the model trains on before answer k is byte for byte the prompt the chat (and the
    judge's multi-turn contestants) give it at turn k."""
    from pipeline.chat.prompting import render_turns

    tok = None if template == "chatml" else tokenizer
    template = "chat" if template == "chatml" else template
    parts = segments(template, TALK, tok)
    for k, answer_at in enumerate(i for i, m in enumerate(TALK) if m["role"] == "assistant"):
        before = "".join(text for text, _, _ in parts[:2 * k + 1])
        assert before == render_turns(template, TALK[:answer_at], tok)


def test_packing_keeps_the_masks(tiny_model_dir, tokenizer):
    rows, _ = build_rows(EXAMPLES * 3, "chat", tokenizer, 512)
    packed = trainer_rows(tiny_model_dir, tokenizer, rows, packing=True)
    assert len(packed) < len(rows)  # rows really were packed together
    labelled = sum(lab != -100 for item in packed for lab in item["labels"])
    assert labelled == sum(sum(r["assistant_masks"]) for r in rows)
    text = tokenizer.decode([t for item in packed for t, lab in zip(item["input_ids"], item["labels"]) if lab != -100])
    assert not any(q in text for q in QUESTIONS) and text.count(ANSWERS[1]) == 3


def test_single_turn_datasets_keep_prompt_completion_rows(tokenizer):
    rows, _ = build_rows([dict(EXAMPLES[1])], "alpaca", tokenizer, 512)
    assert set(rows[0]) == {"prompt", "completion", "pair_id"}


def test_frozen_conversation_reaches_training(store, tmp_path, tokenizer):
    import json

    from pipeline.pairs.importer import ImportConfig, import_file

    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"messages": TALK}) + "\n")
    import_file(store, ImportConfig(path=str(path)))
    ds = store.create_dataset("talk", store.pair_ids({}), {}, "chat")
    rows, _ = build_rows(dataset_examples(store, ds["id"]), "chat", tokenizer, 512)
    assert sum(rows[0]["assistant_masks"]) > 0 and rows[0]["input_ids"]


@pytest.mark.slow
def test_a_conversation_dataset_trains_through_the_real_run(store, tiny_model_dir, tmp_path):
    """job → accelerate launch → SFTTrainer on pre-tokenized conversation rows, packing on."""
    import json
    from pathlib import Path

    from pipeline import jobs
    from pipeline.pairs.importer import ImportConfig, import_file
    from pipeline.train.job import start_run
    from tests.train_helpers import register_tiny, tiny_config

    register_tiny(store, tiny_model_dir)
    for n in range(8):  # eight distinct conversations
        talk = [dict(m) for m in TALK]
        talk[3]["content"] += f" ({n})"
        (tmp_path / f"c{n}.jsonl").write_text(json.dumps({"messages": talk}) + "\n")
        import_file(store, ImportConfig(path=str(tmp_path / f"c{n}.jsonl"), status="approved"))
    store.create_dataset("toy", store.pair_ids({}), {}, "chat")
    run = start_run(store, tiny_config(run_name="talk", template="chat", max_steps=4, save_steps=4))
    job = jobs.wait(store, store.get_run(run["id"])["job_id"], timeout=400)
    assert job["status"] == "done", (job["error"], jobs.tail_log(job["id"], 3000))
    rows = [json.loads(x) for x in (Path(store.get_run(run["id"])["output_dir"]).parent / "train.jsonl").read_text().splitlines()]
    assert rows and set(rows[0]) == {"input_ids", "assistant_masks"}
    assert store.get_run(run["id"])["step"] == 4
