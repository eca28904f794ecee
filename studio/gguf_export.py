"""The "Export to GGUF" controls the Train and Models tabs share: pick quantizations, start the
export job (pipeline.models.export_gguf.submit_export), watch its progress, and read how to run
the result in Ollama / LM Studio / llama.cpp. The same as `python -m pipeline models export-gguf NAME`."""
from __future__ import annotations

from typing import Any

import gradio as gr

from pipeline.models.export_gguf import QUANTS, ExportConfig
from pipeline.store import open_store
from studio.common import StudioContext, ui_errors
from studio.widgets import job_status_html

POLL_S = 1.0
DEFAULT_QUANTS = ["q8_0", "q4_k_m"]


@ui_errors
def start_export(model_name: str | None, picked: list[str] | None,
                 export_name: str | None) -> tuple[int, str, str, Any]:
    """Queue the export of `model_name` to the `picked` quantizations: the job id, its row, the
    equivalent shell command, and the poll timer switched on."""
    from pipeline.models.export_gguf import submit_export

    if not model_name:
        raise gr.Error("Pick a model or checkpoint to export")
    if not picked:
        raise gr.Error("Pick at least one GGUF quantization")
    config = ExportConfig(model=model_name, quantizations=",".join(picked), name=(export_name or "").strip())
    store = open_store()
    job_id = submit_export(store, config)
    command = config.command_line("python -m pipeline models export-gguf", positional=("model",))
    return job_id, job_status_html(store.get_job(job_id)), f"Same from the shell: `{command}`", \
        gr.update(active=True)


def result_text(result: dict | None) -> str:
    """How to use a finished export: the models it registered and where its files are."""
    if not isinstance(result, dict):
        return ""
    return (f"Registered **{', '.join(result['models'])}** (kind gguf; the Chat and Evals tabs run them "
            f"through llama.cpp).\n\nOllama: `ollama create my-model -f {result['modelfile']}` · "
            f"LM Studio / llama.cpp: the `.gguf` files in `{result['folder']}`")


def poll_export(job_id: int | None) -> tuple[Any, Any, Any]:
    """The export job's row, its result once it has ended, and whether to keep polling."""
    if job_id is None:
        return gr.update(), gr.update(), gr.update(active=False)
    row = open_store().get_job(job_id)
    if row["status"] in ("queued", "running"):
        return job_status_html(row), gr.update(), gr.update(active=True)
    return job_status_html(row), result_text(row.get("result") if row["status"] == "done" else None), \
        gr.update(active=False)


def export_controls(ctx: StudioContext, model: gr.Dropdown, prefix: str) -> None:
    """Controls under `model` (a dropdown of registered local models / checkpoints); elem_ids
    start with `prefix` so the two tabs' copies stay apart."""
    with gr.Row():
        quants = gr.CheckboxGroup(list(QUANTS), value=DEFAULT_QUANTS, label="GGUF quantizations",
                                  info=ExportConfig.help("quantizations"), elem_id=f"{prefix}-gguf-quants")
        name = gr.Textbox(label="Export name (optional)", info=ExportConfig.help("name"),
                          elem_id=f"{prefix}-gguf-name")
        button = gr.Button("Export to GGUF", scale=0, elem_id=f"{prefix}-gguf-export")
    status = gr.HTML(elem_id=f"{prefix}-gguf-status")
    result = gr.Markdown(elem_id=f"{prefix}-gguf-result")
    job = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)

    button.click(start_export, [model, quants, name], [job, status, result, timer])
    timer.tick(poll_export, job, [status, result, timer], show_progress="hidden")
