"""From raw model output to the executed completion: stop words, brace languages, chat replies."""
from __future__ import annotations

from evals.passk.postprocess import close_function, completion_from_chat, extract_code, finish_continuation, stop_words
from evals.passk.prompting import build_prompt
from pipeline.models import cut_at_stop


def test_python_continuation_stops_at_the_next_top_level_definition():
    raw = "    return a + b\n\n\ndef test():\n    pass\n"
    assert finish_continuation(raw, "python") == "    return a + b\n\n"


def test_end_of_text_markers_always_stop():
    assert cut_at_stop("x = 1<|endoftext|>junk", stop_words("python")) == "x = 1"


def test_brace_languages_stop_when_the_opened_function_closes():
    assert close_function("  return a + b;\n}\nconsole.log(add(1, 2))\n", "js") == "  return a + b;\n}\n"
    java = "        return 1;\n    }\n}\n\npublic class Other {}\n"
    assert close_function(java, "java") == "        return 1;\n    }\n}\n"


def test_the_fenced_block_defining_the_entry_point_is_extracted():
    reply = ("Here is a helper:\n```python\nimport math\n```\nAnd the answer:\n"
             "```python\ndef add(a, b):\n    return a + b\n```\nHope it helps!")
    assert extract_code(reply, "python", "add") == "def add(a, b):\n    return a + b\n"


def test_a_reply_without_fences_is_taken_whole():
    assert extract_code("def f():\n    return 1", "python") == "def f():\n    return 1\n"


def test_a_chat_reply_with_the_whole_function_is_a_full_program():
    completion, mode = completion_from_chat("```python\ndef add(a, b):\n    return a + b\n```",
                                            "python", "def add(a, b):\n", "add")
    assert (completion, mode) == ("def add(a, b):\n    return a + b\n", "full")


def test_a_chat_reply_with_only_the_body_continues_the_prompt():
    completion, mode = completion_from_chat("```python\nreturn a + b\n```", "python",
                                            "def add(a, b):\n", "add")
    assert (completion, mode) == ("    return a + b\n", "continuation")


def test_chat_prompts_carry_the_instruction_and_the_code_to_complete():
    task = {"task_id": "t", "language": "python", "prompt": "def add(a, b):\n    \"\"\"Add.\"\"\"\n",
            "entry_point": "add", "meta": {}}
    [message] = build_prompt(task, "chat")
    assert message["role"] == "user"
    assert "Complete the Python function `add`" in message["content"]
    assert "```python\ndef add(a, b):" in message["content"]
    assert build_prompt(task, "continuation") == task["prompt"]


def test_fix_prompts_show_the_buggy_solution():
    task = {"task_id": "t", "language": "js", "prompt": "const add = (a, b) => {\n", "entry_point": "add",
            "meta": {"buggy_solution": "  return a - b;\n}\n"}}
    text = build_prompt(task, "continuation", "fix")
    assert text.startswith("const add = (a, b) => {\n  return a - b;\n}\n\nFix bugs in add.")
    assert text.endswith("const add = (a, b) => {\n")
