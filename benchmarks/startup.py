"""Startup: time from `python app.py` to the first page served, and time to the first streamed
token of the default model once it is warm, against the time for a bare `import gradio` in the
same run (the floor any Gradio app pays).

    python benchmarks/startup.py

Targets (issue 2): page ≤ 8 s, first token ≤ 2 s warm, on a 2-core machine.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import free_port, launch_studio, stop, wait_served

RUNS = 3


def time_page(home: Path) -> float:
    port = free_port()
    proc = launch_studio(home, port, lifetime_s=300)
    try:
        return wait_served(f"http://127.0.0.1:{port}/", proc, timeout=120)
    finally:
        stop(proc)


def time_import_gradio() -> float:
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    return time.monotonic() - t


def time_first_token(model_dir: Path) -> tuple[float, float]:
    from pipeline.models import GenParams, stream_chat

    spec = {"name": "default", "kind": "local", "path": str(model_dir)}
    messages = [{"role": "user", "content": "Write a Python function that reverses a string."}]
    t = time.monotonic()
    for _ in stream_chat(spec, messages, GenParams(max_new_tokens=1)):
        pass
    cold = time.monotonic() - t
    warm = []
    for _ in range(RUNS):
        t = time.monotonic()
        next(iter(stream_chat(spec, messages, GenParams(max_new_tokens=64))))
        warm.append(time.monotonic() - t)
    return cold, statistics.median(warm)


def main() -> None:
    from pipeline.models.default_model import bundled_gguf, convert_gguf

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        pages = [time_page(home) for _ in range(RUNS)]
        imports = [time_import_gradio() for _ in range(RUNS)]
        model_dir = convert_gguf(bundled_gguf(), home / "models" / "SmolLM2-135M-Instruct")
        cold, warm = time_first_token(model_dir)
    page, floor = statistics.median(pages), statistics.median(imports)
    rows = [
        ("python app.py → first page served", page, 8.0),
        ("baseline: bare `import gradio`", floor, None),
        ("first streamed token, model cold (load + token)", cold, None),
        ("first streamed token, model warm", warm, 2.0),
    ]
    print(f"{'measure (median of %d)' % RUNS:<50} {'seconds':>8} {'target':>8}")
    for name, value, target in rows:
        print(f"{name:<50} {value:>8.2f} {('≤ %.0f' % target) if target else '':>8}")
    print(f"page {page:.2f}s ({page / floor:.1f}x bare import gradio), first token {warm:.2f}s warm")
    print(f"ratio {page / floor:.1f}x")


if __name__ == "__main__":
    main()
