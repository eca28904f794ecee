"""The "Export to GGUF" controls the Train and Models tabs share: pick quantizations, start the
export job (pipeline.models.export_gguf), watch its progress, and read how to run the result in
Ollama / LM Studio / llama.cpp. The same as `python -m pipeline models export-gguf NAME`."""
from __future__ import annotations

import gradio as gr

from pipeline.models.export_gguf import QUANTS, ExportConfig
from studio.common import StudioContext, ui_errors
from studio.widgets import job_status_html

POLL_S = 1.0


def export_controls(ctx: StudioContext, model: gr.Dropdown, prefix: str) -> None:
    """Controls under `model` (a dropdown of registered local models / checkpoints)."""
    with gr.Row():
        quants = gr.CheckboxGroup(list(QUANTS), value=["q8_0", "q4_k_m"], label="GGUF quantizations",
                                  info=ExportConfig.help("quantizations"), elem_id=f"{prefix}-gguf-quants")
        name = gr.Textbox(label="Export name (optional)", info=ExportConfig.help("name"),
                          elem_id=f"{prefix}-gguf-name")
        button = gr.Button("Export to GGUF", scale=0, elem_id=f"{prefix}-gguf-export")
    status = gr.HTML(elem_id=f"{prefix}-gguf-status")
    result = gr.Markdown(elem_id=f"{prefix}-gguf-result")
    job = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)

    @ui_errors
    def start(model_name, picked, export_name):
        from pipeline.models.export_gguf import submit_export

        if not model_name:
            raise gr.Error("Pick a model or checkpoint to export")
        if not picked:
            raise gr.Error("Pick at least one GGUF quantization")
        config = ExportConfig(model=model_name, quantizations=",".join(picked), name=(export_name or "").strip())
        job_id = submit_export(ctx.store(), config)
        command = config.command_line("python -m pipeline models export-gguf", positional=("model",))
        return job_id, job_status_html(ctx.store().get_job(job_id)), f"Same from the shell: `{command}`", \
            gr.update(active=True)

    def poll(job_id):
        if job_id is None:
            return gr.update(), gr.update(), gr.update(active=False)
        row = ctx.store().get_job(job_id)
        if row["status"] in ("queued", "running"):
            return job_status_html(row), gr.update(), gr.update(active=True)
        done = row.get("result") if row["status"] == "done" else None
        text = ""
        if isinstance(done, dict):
            text = (f"Registered **{', '.join(done['models'])}** (kind gguf; the Chat and Evals tabs run them "
                    f"through llama.cpp).\n\nOllama: `ollama create my-model -f {done['modelfile']}` · "
                    f"LM Studio / llama.cpp: the `.gguf` files in `{done['folder']}`")
        return job_status_html(row), text, gr.update(active=False)

    button.click(start, [model, quants, name], [job, status, result, timer])
    timer.tick(poll, job, [status, result, timer], show_progress="hidden")
