"""llama.cpp: the embedded GGUF chats, batches and scores through it; engines are chosen and named;
a LoRA run exports to every GGUF quantization with llama.cpp's own tools, loads back and answers;
the Ollama Modelfile's template is the tokenizer's (rendered by Go's text/template, as Ollama does)."""
from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest

from pipeline import models
from pipeline.models import GenParams, ModelError, generate, stream_chat

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is built by `make setup`")


@pytest.fixture(autouse=True)
def fresh_cache():
    models.unload()
    yield
    models.unload()


def bundled_spec() -> dict:
    from pipeline.models.default_model import bundled_gguf

    return {"name": "smol-gguf", "kind": "gguf", "path": str(bundled_gguf())}


@pytest.mark.slow
def test_embedded_gguf_chats_batches_and_scores_through_llamacpp():
    spec = bundled_spec()
    assert models.engine_of(spec) == {"engine": "llama.cpp", "quant": "q4_1"}
    ask = [{"role": "user", "content": "Write a Python function that adds two numbers."}]
    counted: list[int] = []
    chat, plain = generate(spec, [ask, "def fibonacci(n):"], GenParams(max_new_tokens=48), on_tokens=counted.append)
    assert "def " in chat and "return" in chat
    assert plain.strip() and sum(counted) > 20          # tokens reported while generating
    assert isinstance(models._loaded(models._route(models.resolve(spec))),
                      __import__("pipeline.models.backends.llamacpp", fromlist=["x"]).LlamaCppModel)

    # The chat stack counts and cuts turns with the GGUF's own tokenizer and template.
    from pipeline.chat import ChatSettings
    from pipeline.chat.prompting import prepare

    prepared = prepare(spec, [{"role": "user", "content": "Say hello."}], ChatSettings(max_new_tokens=16))
    assert prepared.prompt.endswith("<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n")
    grown = list(stream_chat(spec, prepared.prompt, GenParams(max_new_tokens=16)))
    assert len(grown) > 2 and all(b.startswith(a) for a, b in zip(grown, grown[1:]))

    stops = generate(spec, ["def add(a, b):\n    return a + b\n\n\ndef"], GenParams(max_new_tokens=40, stop=["\n"]))
    assert "\n" not in stops[0]

    # The same weights through transformers (it dequantizes the GGUF) score the choices alike.
    question = [{"role": "user", "content": "Is Python a programming language? Answer yes or no."}]
    fast = models.continuation_logprobs(spec, question, ["Yes", "No", "Maybe"])
    from pipeline.models.backends.hf import LocalModel

    reference = LocalModel.load(dict(spec, engine="transformers")).continuation_logprobs(question, ["Yes", "No", "Maybe"])
    assert all(math.isfinite(x) for x in fast)
    assert max(abs(a - b) for a, b in zip(fast, reference)) < 0.5
    assert fast.index(max(fast)) == reference.index(max(reference))


def test_engines_are_chosen_named_and_refused_clearly(tmp_path, tiny_model_dir):
    from pipeline.models.default_model import bundled_gguf

    local = {"name": "tiny", "kind": "local", "path": str(tiny_model_dir)}
    assert models.engine_of(local) == {"engine": "transformers", "quant": "fp32"}
    with pytest.raises(ModelError, match="export-gguf tiny"):
        models.engine_of(local, "llama.cpp")
    with pytest.raises(ModelError, match="unknown engine 'onnx'"):
        models.engine_of(local, "onnx")
    # A model with a GGUF export runs it through llama.cpp unless told otherwise.
    exported = dict(local, meta={"gguf": {"q8_0": str(bundled_gguf()), "f16": str(tmp_path / "gone.gguf")}})
    assert models.engine_of(exported)["engine"] == "llama.cpp"
    assert models.engine_of(exported, "transformers") == {"engine": "transformers", "quant": "fp32"}
    gguf = bundled_spec()
    assert models.engine_of(gguf, "transformers") == {"engine": "transformers", "quant": "fp32"}
    endpoint = {"name": "e", "kind": "openai", "endpoint": "http://127.0.0.1:9/v1", "path": "m"}
    assert models.engine_of(endpoint)["engine"] == "openai-compatible"


# -- export ------------------------------------------------------------------------------------
def _tiny_smollm_run(store, tmp_path):
    """A tiny Llama with SmolLM2's tokenizer (one llama.cpp's converter knows), a LoRA adapter on it
    registered as a run's checkpoint, as training registers one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaForCausalLM

    from tests.helpers import build_tiny_smollm

    base = build_tiny_smollm(tmp_path / "tiny-smol")
    tok = AutoTokenizer.from_pretrained(base)
    peft_model = get_peft_model(LlamaForCausalLM.from_pretrained(base),
                                LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.5)
    adapter = tmp_path / "run" / "checkpoint-6"
    peft_model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    run = store.create_run("tiny-run", {"method": "lora"}, base_model="tiny-smol", dataset_id=None)
    store.register_model("tiny-run-step6", "local", str(adapter), base=str(base), template="chat",
                         run_id=run["id"], meta={"run_id": run["id"], "step": 6, "method": "lora"})
    return run, base, adapter


@pytest.mark.slow
def test_lora_run_exports_to_every_quantization_and_loads_back(store, tmp_path):
    from pipeline import jobs
    from pipeline.models.export_gguf import ExportConfig, submit_export
    from tests.helpers import until

    run, base, adapter = _tiny_smollm_run(store, tmp_path)
    job_id = submit_export(store, ExportConfig(model="tiny-run-step6", quantizations="f16,q8_0,q4_k_m"))
    job = until(lambda: (j := store.get_job(job_id))["status"] not in jobs.ACTIVE and j, timeout=300,
                what="the export job")
    assert job["status"] == "done", job.get("error")
    assert job["total"] == 6 and job["done"] == 6

    checkpoint = store.get_model("tiny-run-step6")
    assert set(checkpoint["meta"]["gguf"]) == {"f16", "q8_0", "q4_k_m"}
    question = [{"role": "user", "content": "def add(a, b):"}]
    from pipeline.models.backends.hf import LocalModel
    from pipeline.models.merged import merged_folder

    reference = LocalModel.load({"name": "m", "kind": "local", "path": str(merged_folder(adapter, str(base)))})
    expected = reference.continuation_logprobs(question, ["    return", " pass"])
    for quant in ("f16", "q8_0", "q4_k_m"):
        m = store.get_model(f"tiny-run-step6-{quant}")
        assert m["kind"] == "gguf" and m["run_id"] == run["id"]                 # lineage: run → checkpoint → GGUF
        assert m["meta"]["exported_from"] == "tiny-run-step6" and m["meta"]["quant"] == quant
        assert models.engine_of(m) == {"engine": "llama.cpp", "quant": quant}   # the file says so itself
        counted: list[int] = []
        out = generate(m, [question], GenParams(max_new_tokens=6), on_tokens=counted.append)
        assert len(out) == 1 and sum(counted) >= 1
        got = models.continuation_logprobs(m, question, ["    return", " pass"])
        tolerance = {"f16": 0.05, "q8_0": 0.2, "q4_k_m": 2.0}[quant]
        assert max(abs(a - b) for a, b in zip(got, expected)) < tolerance, (quant, got, expected)
        assert (store.lineage_model(m["name"])["run_id"]) == run["id"]
    from pipeline.models.export_gguf import export_dir

    text = (export_dir("tiny-run-step6") / "Modelfile").read_text()
    assert text.startswith("FROM ./tiny-run-step6-q4_k_m.gguf") and "<|im_start|>" in text
    assert not (export_dir("tiny-run-step6") / "tiny-run-step6-f16.gguf.partial").exists()


def test_export_refuses_what_it_cannot_do_with_a_clear_message(store, tiny_model_dir):
    from pipeline.errors import ConfigError
    from pipeline.models.export_gguf import ExportConfig, submit_export

    with pytest.raises(ConfigError, match="f16, q8_0, q4_k_m"):
        submit_export(store, ExportConfig(model="x", quantizations="q3"))
    store.register_model("remote", "openai", "gpt", endpoint="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="local folders"):
        submit_export(store, ExportConfig(model="remote"))


def test_export_cli_names_the_model_and_bad_quantization(studio_home):
    import sys

    proc = subprocess.run([sys.executable, "-m", "pipeline", "models", "export-gguf", "nope", "--quantizations",
                           "q9"], capture_output=True, text=True, env={**__import__("os").environ,
                                                                        "STUDIO_HOME": str(studio_home)})
    assert proc.returncode == 2 and "error: quantizations must be some of f16, q8_0, q4_k_m" in proc.stderr


# -- the Modelfile's template ------------------------------------------------------------------
GO_RENDER = r'''
package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct{ Role, Content string }
type Values struct {
	System   string
	Messages []Message
}

func main() {
	var in struct {
		Template string
		Values   Values
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	t := template.Must(template.New("m").Parse(in.Template))
	if err := t.Execute(os.Stdout, in.Values); err != nil {
		panic(err)
	}
}
'''


def _modelfile_parts(text: str) -> tuple[str, str | None]:
    template = text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    system = text.split('SYSTEM """', 1)[1].split('"""', 1)[0] if 'SYSTEM """' in text else None
    return template, system


@pytest.fixture(scope="module")
def go_render(tmp_path_factory):
    if not shutil.which("go"):
        pytest.skip("Go (golang-go, installed by `make toolchains`) renders Ollama's templates here")
    folder = tmp_path_factory.mktemp("gorender")
    (folder / "main.go").write_text(GO_RENDER)
    env = {**__import__("os").environ, "GOCACHE": str(folder / "cache"), "GO111MODULE": "off", "GOFLAGS": ""}
    subprocess.run(["go", "build", "-o", str(folder / "render"), str(folder / "main.go")], check=True, env=env,
                   capture_output=True)

    def render(template: str, system: str, messages: list[dict]) -> str:
        data = {"Template": template, "Values": {"System": system, "Messages": [
            {"Role": m["role"], "Content": m["content"]} for m in messages]}}
        return subprocess.run([str(folder / "render")], input=json.dumps(data), capture_output=True, text=True,
                              check=True).stdout
    return render


def _tokenizers(tiny_model_dir):
    from transformers import AutoTokenizer

    from pipeline.models.default_model import bundled_gguf

    gguf = bundled_gguf()
    return {"smollm2": AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name),
            "tiny": AutoTokenizer.from_pretrained(str(tiny_model_dir))}


@pytest.mark.slow
def test_modelfile_template_renders_what_the_tokenizer_renders(go_render, tiny_model_dir, tmp_path):
    from pipeline.models.ollama import derive_layout, modelfile_text

    conversations = [
        [{"role": "user", "content": "Write fizzbuzz in Python."}],
        [{"role": "system", "content": "You write GDScript."}, {"role": "user", "content": "func _ready():"},
         {"role": "assistant", "content": "\tprint('hi')"}, {"role": "user", "content": "Now {{ in }} Lua."}],
    ]
    for label, tok in _tokenizers(tiny_model_dir).items():
        text = modelfile_text("m.gguf", derive_layout(tok))
        template, default_system = _modelfile_parts(text)
        for convo in conversations:
            systems = [m["content"] for m in convo if m["role"] == "system"]
            # Ollama: a request's system message, else the Modelfile's SYSTEM, is .System.
            system = systems[0] if systems else (default_system or "")
            expected = tok.apply_chat_template(convo, tokenize=False, add_generation_prompt=True)
            assert go_render(template, system, convo) == expected, label
        stops = [line.split('"')[1] for line in text.splitlines() if line.startswith("PARAMETER stop")]
        assert stops == (["<|im_end|>"] if label == "smollm2" else [])  # the tiny template ends turns with "\n"
        assert (default_system is not None) == (label == "smollm2")     # SmolLM2's template adds one


def test_a_template_that_does_not_decompose_is_refused(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    from pipeline.models.ollama import derive_layout

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    tok.chat_template = "{% for m in messages|reverse %}[{{ m['content'] }}]{% endfor %}"
    with pytest.raises(ModelError):
        derive_layout(tok)
    # An export still writes a Modelfile (Ollama then uses the template inside the GGUF), saying why.
    from pipeline.models.ollama import write_modelfiles

    tok.save_pretrained(tmp_path / "odd")
    write_modelfiles(tmp_path, {"q8_0": tmp_path / "odd-q8_0.gguf"}, tmp_path / "odd")
    text = (tmp_path / "Modelfile").read_text()
    assert text.startswith("FROM ./odd-q8_0.gguf") and "# No TEMPLATE:" in text and "TEMPLATE \"\"\"" not in text


@pytest.mark.slow
def test_an_auto_eval_gives_a_checkpoint_its_q8_0_gguf_once(store, prepared_home, tiny_model_dir):
    """Base and tuned compared on one engine: an `auto` eval exports a local model big enough to gain
    to q8_0 first (as the embedded base has); told an engine, or a tiny model, it exports nothing."""
    from pipeline.models.default_model import DEFAULT_NAME, default_model_dir
    from pipeline.models.export_gguf import ensure_gguf

    store.register_model(DEFAULT_NAME, "local", str(default_model_dir()), template="chat")
    store.register_model("tiny", "local", str(tiny_model_dir))
    assert ensure_gguf(store, "tiny") is None and models.engine_of(store.get_model("tiny"))["engine"] == "transformers"
    assert ensure_gguf(store, DEFAULT_NAME, "transformers") is None
    path = ensure_gguf(store, DEFAULT_NAME, log=lambda m: None)
    assert path and path.endswith("-q8_0.gguf")
    assert models.engine_of(store.get_model(DEFAULT_NAME)) == {"engine": "llama.cpp", "quant": "q8_0"}
    assert ensure_gguf(store, DEFAULT_NAME) is None   # once: the next eval finds it
