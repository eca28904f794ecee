"""Export to GGUF from the Models tab, in a real browser: the job runs, its result names the
registered GGUF model and the Ollama command, and the model is in the store with its lineage."""
from __future__ import annotations

import pytest

from pipeline.store import Store
from tests.browser import open_accordion, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]
pytest.importorskip("llama_cpp", reason="llama-cpp-python is built by `make setup`")


def test_export_a_model_to_gguf_from_the_models_tab(studio_page, studio_server, tmp_path):
    from tests.helpers import build_tiny_smollm

    _, home = studio_server
    store = Store(home / "studio.db")
    folder = build_tiny_smollm(home / "models" / "tiny-smol-export")
    store.register_model("tiny-smol-export", "local", str(folder), template="chat", replace=True)

    open_tab(studio_page, "Models")
    open_accordion(studio_page, "Export to GGUF (llama.cpp, Ollama, LM Studio)", "#models-gguf-export")
    studio_page.locator("#models-refresh").click()   # the model was registered after the page loaded
    box = studio_page.locator("#models-gguf-model input")
    option = studio_page.get_by_role("option", name="tiny-smol-export", exact=True).first
    for _ in range(5):   # the refresh may land after the dropdown opened: open it again
        box.click()
        box.press("Control+a")
        box.press_sequentially("tiny-smol-export")
        try:
            option.wait_for(timeout=10_000)
            break
        except Exception:
            studio_page.locator("#models-refresh").click()
    option.click()
    studio_page.locator("#models-gguf-quants").get_by_label("q4_k_m").uncheck()   # q8_0 only: quicker
    studio_page.locator("#models-gguf-export").click()
    studio_page.locator("#models-gguf-status .job-row").wait_for()
    result = studio_page.locator("#models-gguf-result")
    result.get_by_text("Registered").wait_for(timeout=240_000)
    text = result.inner_text()
    assert "tiny-smol-export-q8_0" in text and "ollama create" in text and "Modelfile" in text
    model = store.get_model("tiny-smol-export-q8_0")
    assert model["kind"] == "gguf" and model["meta"]["exported_from"] == "tiny-smol-export"
    assert set(store.get_model("tiny-smol-export")["meta"]["gguf"]) == {"q8_0"}
    store.close()
