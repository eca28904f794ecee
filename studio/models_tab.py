"""Models tab: register models (folder, hub id, GGUF, OpenAI-compatible endpoint), export one to GGUF
(llama.cpp / Ollama / LM Studio) and try a prompt.

Calls pipeline.models (`register`, `stream_chat`, the default model's preparation job) and the
store's model rows; the GGUF controls are studio.gguf_export's. The API key box is per browser
session (gr.State is never written anywhere); a registered endpoint stores only the *name* of the
env var that holds its key.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import gradio as gr

from pipeline.models import GenParams, register, stream_chat
from pipeline.models.templates import template_names
from pipeline.store import open_store
from studio.common import StudioContext, keep_choice, ui_errors

TITLE = "Models"
COLUMNS = ["name", "kind", "path", "base", "endpoint", "api_key_env", "template"]


@ui_errors
def refresh(current: str | None = None, exporting: str | None = None) -> tuple[list[list], Any, Any]:
    """The models table, the prompt picker's choices (every model) and the export picker's (local
    folders), each keeping the person's pick while it is still offered."""
    models = open_store().list_models()
    rows = [[m.get(c) or "" for c in COLUMNS] for m in models]
    names = [m["name"] for m in models]
    local = [m["name"] for m in models if m["kind"] == "local"]
    return (rows, gr.update(choices=names, value=keep_choice(current, names)),
            gr.update(choices=local, value=keep_choice(exporting, local)))


@ui_errors
def register_model(name: str, kind: str, path: str, base: str, endpoint: str, key_env: str,
                   template: str) -> tuple[list[list], Any, Any]:
    """Register a model from the form; the refreshed listing."""
    if not path.strip():
        raise gr.Error("Give a path, hub id or model id")
    if kind == "openai" and not endpoint.strip():
        raise gr.Error("An OpenAI-compatible model needs an endpoint base_url")
    register(open_store(), name, kind, path.strip(), base=base.strip() or None, endpoint=endpoint.strip() or None,
             api_key_env=key_env.strip() or None, template=template)
    gr.Info(f"Registered {name}")
    return refresh()


@ui_errors
def remove_model(name: str) -> tuple[list[list], Any, Any]:
    """Remove the model called `name` from the registry (its files stay); the refreshed listing."""
    from pipeline import access

    access.require(access.Cap.WRITE_DATA, access.Target(what=f"remove model {name}"))
    open_store().delete_model(name)
    gr.Info(f"Removed {name}")
    return refresh()


@ui_errors
def prepare_default() -> None:
    """Start the job that prepares the embedded default model, unless it is ready already."""
    from pipeline.models.default_model import ensure_default_model_job

    job_id = ensure_default_model_job(open_store())
    gr.Info("Already prepared" if job_id is None else f"Job {job_id} started: see the Jobs tab")


def do_try(model: str | None, key: str | None, text: str | None, n_tokens: float,
               temperature: float) -> Iterator[str]:
    """Stream `model`'s reply to one user message (the reply so far at each step). Any failure
    shows in the page as an error with its message; the server keeps running."""
    if not model:
        raise gr.Error("Pick a model (prepare the default one first)")
    if not (text or "").strip():
        raise gr.Error("Type a prompt first: an empty prompt is not sent")
    params = GenParams(max_new_tokens=int(n_tokens), temperature=float(temperature))
    try:
        yield from stream_chat(model, [{"role": "user", "content": text}], params, api_key=key or None)
    except Exception as exc:  # shown in the page; the server keeps running
        from pipeline.errors import StudioError

        if isinstance(exc, StudioError):
            raise gr.Error(str(exc)) from exc
        raise gr.Error(f"{type(exc).__name__}: {exc}") from exc


class _Register(NamedTuple):
    name: gr.Textbox
    kind: gr.Radio
    path: gr.Textbox
    base: gr.Textbox
    endpoint: gr.Textbox
    key_env: gr.Textbox
    template: gr.Dropdown
    register_btn: gr.Button
    remove_btn: gr.Button


def _layout_register() -> _Register:
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
    return _Register(name, kind, path, base, endpoint, key_env, template, register_btn, remove_btn)


class _Try(NamedTuple):
    model: gr.Dropdown
    api_key: gr.Textbox
    max_tokens: gr.Slider
    temperature: gr.Slider
    prompt: gr.Textbox
    button: gr.Button
    reply: gr.Markdown


def _layout_try() -> _Try:
    gr.Markdown("### Try a prompt")
    with gr.Row():
        model = gr.Dropdown([], label="Model", allow_custom_value=False, scale=2, elem_id="try-model")
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password", scale=2)
        max_tokens = gr.Slider(8, 1024, value=128, step=8, label="Max new tokens", scale=1)
        temperature = gr.Slider(0, 2, value=0, step=0.05, label="Temperature", scale=1)
    prompt = gr.Textbox(label="Prompt", lines=3, value="Write a Python function that reverses a string.")
    button = gr.Button("Generate", variant="primary")
    # Markdown, not a Textbox: code fences in the reply show as highlighted monospace blocks.
    reply = gr.Markdown(label="Reply", elem_id="model-reply", min_height=120, container=True)
    return _Try(model, api_key, max_tokens, temperature, prompt, button, reply)


def build(ctx: StudioContext) -> None:
    # Paths are long: without set widths the short columns were squeezed to a letter a line.
    table = gr.Dataframe(headers=COLUMNS, label="Registered models", interactive=False, wrap=True,
                         column_widths=["18%", "7%", "31%", "17%", "12%", "8%", "7%"], elem_id="models-table")
    with gr.Row():
        prepare_btn = gr.Button("Prepare the embedded default model (SmolLM2-135M-Instruct)")
        refresh_btn = gr.Button("Refresh", scale=0, elem_id="models-refresh")
    reg = _layout_register()
    with gr.Accordion("Export to GGUF (llama.cpp, Ollama, LM Studio)", open=False):
        export_model = gr.Dropdown([], label="Model or checkpoint (local folders; a LoRA one is merged first)",
                                   elem_id="models-gguf-model")
        from studio.gguf_export import export_controls

        export_controls(ctx, export_model, "models")
    tryout = _layout_try()

    listing = [table, tryout.model, export_model]
    refresh_btn.click(refresh, [tryout.model, export_model], listing)
    reg.register_btn.click(register_model, [reg.name, reg.kind, reg.path, reg.base, reg.endpoint, reg.key_env,
                                            reg.template], listing, api_name="do_register")
    reg.remove_btn.click(remove_model, reg.name, listing, api_name="do_remove")
    prepare_btn.click(prepare_default, api_name="do_prepare")
    tryout.button.click(do_try, [tryout.model, tryout.api_key, tryout.prompt, tryout.max_tokens,
                                     tryout.temperature], tryout.reply,
                        concurrency_id="generate", concurrency_limit=2)
    ctx.on_load(refresh, [tryout.model, export_model], listing)


if __name__ == "__main__":   # python -m studio.models_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
