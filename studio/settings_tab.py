"""Settings: where data lives, which keys the environment provides (present or not, never the
value), the hardware local models will run on, and what hosted mode allows."""
from __future__ import annotations

import os

import gradio as gr

from pipeline.paths import studio_home
from studio.common import StudioContext

TITLE = "Settings"
KEY_VARS = ["OPENAI_API_KEY", "GITHUB_TOKEN", "HF_TOKEN"]


def summary(ctx: StudioContext) -> str:
    keys = "\n".join(f"| `{k}` | {'present' if os.environ.get(k) else 'not set'} |" for k in KEY_VARS)
    store_line = f"**Store error:** {ctx.store_error}" if ctx.store_error else \
        f"Database: `{studio_home() / 'studio.db'}`"
    return (
        f"**Data dir:** `{studio_home()}`  \n{store_line}  \n"
        f"**Mode:** {'hosted (Hugging Face Space)' if ctx.hosted else 'local'} · "
        f"code execution {'enabled' if ctx.allow_code_execution else 'disabled (set STUDIO_ALLOW_CODE_EXECUTION=1)'}\n\n"
        f"| key | status |\n|---|---|\n{keys}\n"
    )


def hardware() -> str:
    from pipeline.models import describe_device, loaded_models

    d = describe_device()
    gpu = f"GPU: **{d['gpu']}** (bf16 {'yes' if d.get('bf16') else 'no'})" if d["cuda"] else \
        "GPU: **none detected** — local models run on the CPU in float32 with sdpa attention"
    extras = f"flash-attn {'installed' if d['flash_attn'] else 'absent'} · " \
             f"bitsandbytes {'installed' if d['bitsandbytes'] else 'absent'}"
    loaded = ", ".join(loaded_models()) or "none"
    return f"{gpu}  \n{extras}  \nModels loaded in memory: {loaded}"


def build(ctx: StudioContext) -> None:
    gr.Markdown(summary(ctx), elem_id="settings-summary")
    hw = gr.Markdown("Detecting hardware…", elem_id="settings-hardware")
    with gr.Row():
        detect = gr.Button("Detect hardware again", scale=0)
        unload = gr.Button("Unload all models", scale=0)

    def do_unload():
        from pipeline.models import unload as unload_models

        gr.Info(f"Unloaded {unload_models()} model(s)")
        return hardware()

    detect.click(hardware, None, hw)
    unload.click(do_unload, None, hw)
    ctx.on_load(hardware, None, hw)
