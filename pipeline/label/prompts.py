"""Default prompt templates, as data. The store seeds them once; edits save new versions there.

A label template is rendered with `str.format` over these fields (a field the template does not
use is ignored; one it uses that is not listed here is refused when the template is saved):

    code, language, name, kind, path, repo, engine_version, context

`context` is the project context built from the snippet's repo (e.g. "The code is from the
Godot 4.x project owner/name, file player.gd."), so one template serves every language and engine.
"""
from __future__ import annotations

LABEL_FIELDS = ("code", "language", "name", "kind", "path", "repo", "engine_version", "context")

# godot-dodo's method: ask for the instruction a user would type to get exactly this code,
# in prose (the code itself becomes the answer), with the language and engine named.
DESCRIBE_SYSTEM = (
    "You write the instructions of an instruction-tuning dataset for code models. You are shown a "
    "function that already exists; reply with the one instruction a user would give an AI "
    "assistant so that the assistant writes exactly this function. Describe what it does "
    "(inputs, behaviour, result) in plain prose and name the programming language. Never include "
    "code, code blocks or the function body in your reply. Reply with the instruction only, "
    "without a preface or quotes."
)

DESCRIBE_TEMPLATE = (
    "{context}\n\n"
    "{language} {kind} `{name}`:\n"
    "```\n{code}\n```\n\n"
    "Write the instruction a user would give to get this {language} {kind}. "
    "Name the language, mention the project context where it matters, and do not write any code."
)

DEFAULT_TEMPLATES: list[dict] = [
    {"name": "describe", "version": 1, "purpose": "label",
     "system": DESCRIBE_SYSTEM, "template": DESCRIBE_TEMPLATE},
]

DEFAULT_TEMPLATE_NAME = "describe"
