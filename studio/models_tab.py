"""Models tab: register models (folder, hub id, GGUF, OpenAI-compatible endpoint), export one to GGUF
(llama.cpp / Ollama / LM Studio) and try a prompt.

The API key box is per browser session (gr.State is never written anywhere); a registered
endpoint stores only the *name* of the env var that holds its key.
"""
from __future__ import annotations

import gradio as gr

from pipeline.models import GenParams, register, stream_chat
from pipeline.models.templates import template_names
from studio.common import keep_choice
from studio.common import StudioContext, ui_errors

TITLE = "Models"
COLUMNS = ["name", "kind", "path", "base", "endpoint", "api_key_env", "template"]


def build(ctx: StudioContext) -> None:
    # Paths are long: without set widths the short columns were squeezed to a letter a line.
    table = gr.Dataframe(headers=COLUMNS, label="Registered models", interactive=False, wrap=True,
                         column_widths=["18%", "7%", "31%", "17%", "12%", "8%", "7%"], elem_id="models-table")
    with gr.Row():
        prepare_btn = gr.Button("Prepare the embedded default model (SmolLM2-135M-Instruct)")
        refresh_btn = gr.Button("Refresh", scale=0, elem_id="models-refresh")
    with gr.Accordion("Register a model", open=False):
        with gr.Row():
            name = gr.Textbox(label="Name", placeholder="my-finetune", elem_id="model-name")
            kind = gr.Radio(["local", "hf", "gguf", "openai"], value="local", label="Kind",
                            info="local folder · hub id · .gguf file · OpenAI-compatible endpoint")
        path = gr.Textbox(label="Path / hub id / model id", elem_id="model-path",
                          placeholder="/data/ckpt-500, HuggingFaceTB/SmolLM2-135M-Instruct, gpt-4o-mini")
        with gr.Row():
            base = gr.Textbox(label="Base model (for a LoRA adapter folder)")
            endpoint = gr.Textbox(label="Endpoint base_url", placeholder="http://127.0.0.1:8000/v1")
            key_env = gr.Textbox(label="API key env var name", placeholder="OPENAI_API_KEY")
            template = gr.Dropdown(template_names(), value="chat", label="Template")
        with gr.Row():
            register_btn = gr.Button("Register", variant="primary")
            remove_btn = gr.Button("Remove by name", variant="stop")
    with gr.Accordion("Export to GGUF (llama.cpp, Ollama, LM Studio)", open=False):
        export_model = gr.Dropdown([], label="Model or checkpoint (local folders; a LoRA one is merged first)",
                                   elem_id="models-gguf-model")
        from studio.gguf_export import export_controls

        export_controls(ctx, export_model, "models")
    gr.Markdown("### Try a prompt")
    with gr.Row():
        model = gr.Dropdown([], label="Model", allow_custom_value=False, scale=2, elem_id="try-model")
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password", scale=2)
        max_tokens = gr.Slider(8, 1024, value=128, step=8, label="Max new tokens", scale=1)
        temperature = gr.Slider(0, 2, value=0, step=0.05, label="Temperature", scale=1)
    prompt = gr.Textbox(label="Prompt", lines=3, value="Write a Python function that reverses a string.")
    try_btn = gr.Button("Generate", variant="primary")
    # Markdown, not a Textbox: code fences in the reply show as highlighted monospace blocks.
    reply = gr.Markdown(label="Reply", elem_id="model-reply", min_height=120, container=True)

    @ui_errors
    def refresh(current=None, exporting=None):
        models = ctx.store().list_models()
        rows = [[m.get(c) or "" for c in COLUMNS] for m in models]
        names = [m["name"] for m in models]
        local = [m["name"] for m in models if m["kind"] == "local"]
        return (rows, gr.update(choices=names, value=keep_choice(current, names)),
                gr.update(choices=local, value=keep_choice(exporting, local)))

    @ui_errors
    def do_register(n, k, p, b, e, kenv, t):
        if not p.strip():
            raise gr.Error("Give a path, hub id or model id")
        if k == "openai" and not e.strip():
            raise gr.Error("An OpenAI-compatible model needs an endpoint base_url")
        register(ctx.store(), n, k, p.strip(), base=b.strip() or None, endpoint=e.strip() or None,
                 api_key_env=kenv.strip() or None, template=t)
        gr.Info(f"Registered {n}")
        return refresh()

    @ui_errors
    def do_remove(n):
        from pipeline import access

        access.require(access.Cap.WRITE_DATA, access.Target(what=f"remove model {n}"))
        ctx.store().delete_model(n)
        gr.Info(f"Removed {n}")
        return refresh()

    @ui_errors
    def do_prepare():
        from pipeline.models.default_model import ensure_default_model_job

        job_id = ensure_default_model_job(ctx.store())
        gr.Info("Already prepared" if job_id is None else f"Job {job_id} started: see the Jobs tab")

    def do_try(m, key, text, n_tokens, temp):
        if not m:
            raise gr.Error("Pick a model (prepare the default one first)")
        if not (text or "").strip():
            raise gr.Error("Type a prompt first: an empty prompt is not sent")
        params = GenParams(max_new_tokens=int(n_tokens), temperature=float(temp))
        try:
            for partial in stream_chat(m, [{"role": "user", "content": text}], params, api_key=key or None):
                yield partial
        except Exception as exc:  # shown in the page; the server keeps running
            from pipeline.errors import StudioError

            if isinstance(exc, StudioError):
                raise gr.Error(str(exc)) from exc
            raise gr.Error(f"{type(exc).__name__}: {exc}") from exc

    refresh_btn.click(refresh, [model, export_model], [table, model, export_model])
    register_btn.click(do_register, [name, kind, path, base, endpoint, key_env, template], [table, model, export_model])
    remove_btn.click(do_remove, name, [table, model, export_model])
    prepare_btn.click(do_prepare)
    try_btn.click(do_try, [model, api_key, prompt, max_tokens, temperature], reply,
                  concurrency_id="generate", concurrency_limit=2)
    ctx.on_load(refresh, [model, export_model], [table, model, export_model])


if __name__ == "__main__":   # python -m studio.models_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
