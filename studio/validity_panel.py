"""Syntax validity panel (inside the Evals tab): check one answer or a JSONL file of answers for a
target Godot version / language, with every finding's rule, line, message and fix.

Both buttons call evals.validity.answers (the functions behind `python -m evals validity`):
`check_answers` runs the checker's levels over the answers, `summarize` counts them, and
`load_answers` reads an uploaded file. `build` lays the panel out and wires the two handlers.
"""
from __future__ import annotations

import gradio as gr

from studio.common import ui_errors

LANGUAGES = ["gdscript", "python", "javascript", "typescript", "go", "rust", "java", "c", "cpp", "lua"]
LEVELS = ["parse", "dialect", "refs", "semantic", "lint", "compile"]
FINDING_COLUMNS = ["answer", "line", "severity", "rule", "message", "fix"]
EXAMPLE = """extends KinematicBody2D

onready var sprite = $Sprite

func _physics_process(delta):
    velocity = move_and_slide(velocity, Vector2.UP)
    yield(get_tree().create_timer(1.0), "timeout")
"""


def _finding_rows(rows: list[dict], results: list) -> list[list]:
    """One table row per finding: the answer's id (or position), line, severity, rule, message, fix."""
    out = []
    for index, (row, result) in enumerate(zip(rows, results, strict=False)):
        for f in result.findings:
            out.append([str(row.get("id", index)), f.line, f.severity, f.rule_id, f.message, f.fix or ""])
    return out


def _summary_md(summary: dict) -> str:
    """How many answers are valid, for which targets and levels, and agreement with given labels."""
    text = (f"**{summary['valid']} of {summary['answers']} valid ({summary['rate']:.1%})** · "
            f"target {', '.join(summary['targets']) or '-'} · levels {', '.join(summary['levels'])}")
    if summary["labelled"]:
        text += (f"  \nAgreement with the file's `valid` labels: {summary['agree']}/{summary['labelled']} = "
                 f"{summary['agree'] / summary['labelled']:.1%}")
    return text


def _target(choice: str) -> str | None:
    """The Godot version picked, or None for "from prompt/project" (the checker infers it)."""
    return None if choice.startswith("from") else choice


@ui_errors
def check_one(text: str | None, lang: str, t: str, lv: list[str], refs: str) -> tuple[str, list[list]]:
    """Check the one answer in the code box: its verdict with the summary, and its findings."""
    from evals.validity.answers import check_answers, summarize

    if not lv:
        raise gr.Error("Pick at least one level")
    rows = [{"id": "answer", "code": text or ""}]
    results = check_answers(rows, lang, target=_target(t), levels=lv, user_refs=refs)
    word = "valid" if results[0].valid else "INVALID"
    return f"**{word}** for target {results[0].target or '-'}  \n" + _summary_md(summarize(rows, results)), \
        _finding_rows(rows, results)


@ui_errors
def check_file(f: str | None, lang: str, t: str, lv: list[str], fld: str, refs: str) -> tuple[str, list[list]]:
    """Check every answer of an uploaded file (the language may come from the file): the summary,
    with agreement with the file's own `valid` labels, and every finding."""
    from evals.validity.answers import check_answers, load_answers, summarize

    if f is None:
        raise gr.Error("Upload a .jsonl file of answers first")
    rows, lang = load_answers(f, lang)
    results = check_answers(rows, lang, target=_target(t), levels=lv, field=fld.strip() or None,
                            user_refs=refs)
    return _summary_md(summarize(rows, results)), _finding_rows(rows, results)


def build() -> None:
    """The panel's controls (language, version, levels, the answer or a file) and its results."""
    with gr.Row():
        language = gr.Dropdown(LANGUAGES, value="gdscript", label="Language", scale=1)
        target = gr.Radio(["4", "3", "from prompt/project"], value="4", label="Godot version", scale=1)
        levels = gr.CheckboxGroup(LEVELS, value=["parse", "dialect", "refs", "semantic"], label="Levels",
                                  info="compile runs the real toolchain where installed (slower)", scale=2)
        user_refs = gr.Radio(["amend", "strict"], value="amend", label="User-made names (GDScript)",
                             info="amend: stub them as a reviewer would (answers); strict: errors (files)",
                             scale=1, elem_id="validity-user-refs")
    with gr.Row():
        with gr.Column():
            code = gr.Code(EXAMPLE, language="python", label="Answer to check", lines=10,
                           interactive=True, elem_id="validity-code")
            check_btn = gr.Button("Check this answer", variant="primary")
        with gr.Column():
            upload = gr.File(label="…or a JSONL file of answers (code/completion/output field)",
                             file_types=[".jsonl", ".gd", ".py", ".js"])
            field = gr.Textbox(label="Answer field (empty: first of code, completion, output, answer)")
            check_file_btn = gr.Button("Check the file")
    verdict = gr.Markdown(elem_id="validity-verdict")
    findings = gr.Dataframe(headers=FINDING_COLUMNS, label="Findings", interactive=False, wrap=True)
    check_btn.click(check_one, [code, language, target, levels, user_refs], [verdict, findings])
    check_file_btn.click(check_file, [upload, language, target, levels, field, user_refs], [verdict, findings])
