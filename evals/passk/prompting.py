"""What a model is asked for each task: plain continuation for base models, an instruction for
chat models (the model's own chat template is applied by pipeline.models), and HumanEvalPack's
task types — synthesize, fix (a buggy solution to repair) and explain (describe the code, then
write it again from the description alone).

    build_prompt(task, "chat")                   # [{"role": "user", "content": …}]
    build_prompt(task, "continuation", "fix")    # buggy code + "Fix bugs in f." + the prompt
    program_prefix(task, "explain")              # what the completion is appended to
"""
from __future__ import annotations

from evals.passk.languages import display_name, normalize_language
from pipeline.languages import fence_tag
from pipeline.store.base import StoreError

FORMATS = ("chat", "continuation")
TASK_TYPES = ("synthesize", "fix", "explain")


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise StoreError(f"unknown {what} {value!r}; use one of {', '.join(choices)}")
    return value


def program_prefix(task: dict, task_type: str = "synthesize") -> str:
    """The code a completion continues: the prompt, or for `explain` the bare declaration."""
    meta = task.get("meta") or {}
    if task_type == "explain" and meta.get("declaration"):
        return meta["declaration"]
    return task["prompt"]


def default_instruction(task: dict) -> str:
    language = normalize_language(task.get("language"))
    what = f"`{task['entry_point']}`" if task.get("entry_point") else "the code"
    return f"Complete the {display_name(language)} function {what} below."


def describe_prompt(task: dict, prompt_format: str) -> str | list[dict]:
    """Stage one of `explain`: ask for a description of the canonical solution."""
    meta = task.get("meta") or {}
    limit = len(meta.get("docstring") or "") or 500
    code = program_prefix(task, "explain") + (task.get("canonical_solution") or "")
    ask = f"Provide a concise natural language description of the code using at most {limit} characters."
    if prompt_format == "chat":
        return [{"role": "user", "content": f"{code}\n\n{ask}"}]
    return f"{code}\n\n{ask}\n"


def build_prompt(task: dict, prompt_format: str = "chat", task_type: str = "synthesize",
                 description: str | None = None) -> str | list[dict]:
    check_choice(prompt_format, FORMATS, "prompt format")
    check_choice(task_type, TASK_TYPES, "task type")
    meta = task.get("meta") or {}
    language = normalize_language(task.get("language"))
    base = program_prefix(task, task_type)
    context = None
    if task_type == "synthesize":
        instruction = meta.get("instruction") or default_instruction(task)
    elif task_type == "fix":
        if not meta.get("buggy_solution"):
            raise StoreError(f"task {task['task_id']} has no buggy_solution; `fix` needs a "
                             "HumanEvalPack-shaped suite")
        instruction = f"Fix bugs in {task.get('entry_point') or 'the code'}."
        context = task["prompt"] + meta["buggy_solution"]
    else:
        if description is None:
            raise StoreError("`explain` needs the model's description from stage one")
        instruction = (f"Write functional code in {display_name(language)} according "
                       "to the description.")
        context = description.strip()
    if prompt_format == "continuation":
        if task_type == "synthesize":
            return base
        return f"{context}\n{instruction}\n\n{base}"
    tag = fence_tag(language)
    parts = [instruction] + ([context] if context and task_type == "explain" else [])
    if context and task_type == "fix":
        parts.append(f"```{tag}\n{context.rstrip()}\n```")
    parts.append(f"Reply with the complete function in one ```{tag} code block, starting from:\n"
                 f"```{tag}\n{base.rstrip()}\n```")
    return [{"role": "user", "content": "\n\n".join(parts)}]
