"""Settings: where data lives, which keys the environment provides (present or not, never the
value), the hardware local models will run on, and what hosted mode allows.

Read-only views of pipeline.hosted (`summary`), pipeline.access (`table_markdown`),
evals.passk.languages (`toolchains`, `libraries`) and pipeline.models (`describe_device`,
`loaded_models`); its one action frees loaded models (`pipeline.models.unload`).
"""
from __future__ import annotations

import os

import gradio as gr

from pipeline.paths import studio_home
from studio.common import StudioContext

TITLE = "Settings"
KEY_VARS = ["OPENAI_API_KEY", "GITHUB_TOKEN", "HF_TOKEN"]


def hosted_markdown() -> str:
    """What the hosted profile allows (names only, never values)."""
    from pipeline import hosted

    h = hosted.summary()
    warning = f"**Warning:** {h['data_warning']}\n\n" if h["data_warning"] else ""
    if not h["hosted"]:
        return warning + ("**Hosted profile:** off (local use: your folders, your keys). It turns on under "
                          "SPACE_ID or STUDIO_HOSTED=1.")
    def listed(names, how):
        return ", ".join(f"`{n}`" for n in names) if names else f"none ({how})"
    return (warning + "**Hosted profile: on.** Logins come from STUDIO_AUTH; "
            f"owners: {listed(h['owners'], 'set STUDIO_OWNERS')}; other logins are users, who have no "
            "server folders and paste their own endpoint keys and hub tokens for their session.  \n"
            f"Public arena for anonymous visitors: {'on (at /, the studio at /studio)' if h['public_arena'] else 'off (STUDIO_PUBLIC_ARENA=1)'}  \n"
            f"ZeroGPU: {'yes: generation under spaces.GPU, training off' if h['zero_gpu'] else 'no'}  \n"
            f"Server secrets and the host each may go to: {listed(h['key_envs_allowed'], 'set STUDIO_KEY_ENVS=NAME=host')}  \n"
            f"Hub namespaces pushes may go to: {listed(h['hub_namespaces_allowed'], 'set STUDIO_HUB_NAMESPACES')}  \n"
            f"Code execution and the compile level: {'allowed by the owner' if h['code_execution'] else 'off (STUDIO_ALLOW_CODE_EXECUTION=1 allows them)'}")


def access_markdown() -> str:
    """The gate's role x capability table (pipeline.access), as the code decides."""
    from pipeline import access

    return ("**Who may do what** (the one gate every operation asks; details in docs/access.md):\n\n"
            + access.table_markdown())


def toolchains_markdown() -> str:
    """Each pass@k language's toolchain version (or how to install it) and the suite libraries."""
    from evals.passk.languages import libraries, toolchains

    rows = "\n".join(f"| {lang} | {tc.version if tc.available else '**not installed** (`make toolchains`)'} |"
                     for lang, tc in toolchains().items())
    libs = "\n".join(f"| {name} | {'present' if ok else '**missing** (`make toolchains`)'} |"
                      for name, ok in libraries().items())
    return f"| language | toolchain |\n|---|---|\n{rows}\n\n| suite library | status |\n|---|---|\n{libs}\n"


def summary(ctx: StudioContext) -> str:
    """Where data lives, the mode, and which API keys the environment sets (never their values)."""
    keys = "\n".join(f"| `{k}` | {'present' if os.environ.get(k) else 'not set'} |" for k in KEY_VARS)
    store_line = f"**Store error:** {ctx.store_error}" if ctx.store_error else \
        f"Database: `{studio_home() / 'studio.db'}`"
    return (
        f"**Data dir:** `{studio_home()}`  \n{store_line}  \n"
        f"**Mode:** {'hosted' if ctx.hosted else 'local'} · "
        f"code execution {'enabled' if ctx.allow_code_execution else 'disabled (set STUDIO_ALLOW_CODE_EXECUTION=1)'}\n\n"
        f"| key | status |\n|---|---|\n{keys}\n"
    )


def hardware() -> str:
    """The GPU (or its absence), optional accelerators, and the models loaded in memory."""
    from pipeline.models import describe_device, loaded_models

    d = describe_device()
    gpu = f"GPU: **{d['gpu']}** (bf16 {'yes' if d.get('bf16') else 'no'})" if d["cuda"] else \
        "GPU: **none detected** — local models run on the CPU in float32 with sdpa attention"
    extras = f"flash-attn {'installed' if d['flash_attn'] else 'absent'} · " \
             f"bitsandbytes {'installed' if d['bitsandbytes'] else 'absent'}"
    loaded = ", ".join(loaded_models()) or "none"
    return f"{gpu}  \n{extras}  \nModels loaded in memory: {loaded}"


def unload_all() -> str:
    """Free every model loaded in this process; the hardware summary after it."""
    from pipeline.models import unload as unload_models

    gr.Info(f"Unloaded {unload_models()} model(s)")
    return hardware()


def build(ctx: StudioContext) -> None:
    gr.Markdown(summary(ctx), elem_id="settings-summary")
    gr.Markdown(hosted_markdown(), elem_id="settings-hosted")
    with gr.Accordion("Who may do what", open=True, elem_id="settings-access"):
        gr.Markdown(access_markdown())
    with gr.Accordion("Toolchains for pass@k languages", open=False, elem_id="settings-toolchains"):
        gr.Markdown(toolchains_markdown())
    hw = gr.Markdown("Detecting hardware…", elem_id="settings-hardware")
    with gr.Row():
        detect = gr.Button("Detect hardware again", scale=0)
        unload = gr.Button("Unload all models", scale=0)

    detect.click(hardware, None, hw)
    unload.click(unload_all, None, hw, api_name="do_unload")
    ctx.on_load(hardware, None, hw)


if __name__ == "__main__":   # python -m studio.settings_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
