"""generate/stream_chat through every backend: a tiny local model, base + LoRA adapter, GGUF,
the embedded default, and an OpenAI-compatible server talked to by the real `openai` client."""
from __future__ import annotations

import socket

import pytest

from pipeline import models
from pipeline.models import GenParams, ModelError, generate, stream_chat
from tests.openai_server import OpenAIServer


@pytest.fixture(autouse=True)
def fresh_cache():
    models.unload()
    yield
    models.unload()


def local(path, **kw):
    return {"name": "tiny", "kind": "local", "path": str(path), **kw}


def test_local_model_generates_one_output_per_prompt(tiny_model_dir):
    outs = generate(local(tiny_model_dir), ["def add(a, b):", "func _ready():", "def add(a, b):"],
                    GenParams(max_new_tokens=5, batch_size=2))
    assert len(outs) == 3 and all(isinstance(o, str) for o in outs)
    assert outs[0] == outs[2]  # greedy: same prompt, same answer, even across batches


def test_chat_messages_use_the_tokenizer_chat_template(tiny_model_dir):
    loaded = models._loaded(models.resolve(local(tiny_model_dir)))
    text = loaded.render([{"role": "user", "content": "hi"}])
    assert text == "<|user|>hi\n<|assistant|>"


def test_stream_chat_grows_to_the_full_reply(tiny_model_dir):
    params = GenParams(max_new_tokens=6)
    chunks = list(stream_chat(local(tiny_model_dir), [{"role": "user", "content": "hi"}], params))
    assert chunks and all(b.startswith(a) for a, b in zip(chunks, chunks[1:]))
    assert chunks[-1] == generate(local(tiny_model_dir), [[{"role": "user", "content": "hi"}]], params)[0]


def test_loaded_model_is_cached_not_reloaded(tiny_model_dir):
    first = models._loaded(models.resolve(local(tiny_model_dir)))
    generate(local(tiny_model_dir), ["x"], GenParams(max_new_tokens=1))
    assert models._loaded(models.resolve(local(tiny_model_dir))) is first
    assert models.unload(local(tiny_model_dir)) == 1


def test_stop_words_cut_the_output():
    assert models.cut_at_stop("a\ndef b\nclass", ["\nclass", "\ndef"]) == "a"


def _tiny_adapter(tiny_model_dir, out):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            p.data.fill_(0.5)  # a non-zero adapter, so it really changes the output
    peft_model.save_pretrained(out)
    return out


def test_lora_adapter_is_merged_once_for_generation(studio_home, tiny_model_dir, tmp_path):
    """Issue 19: an unmerged peft adapter made a tuned eval ~12x slower than its base. Generation
    runs on the merged weights (same logits as base + adapter), merged once and cached on disk."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.models.merged import cache_dir

    adapter = _tiny_adapter(tiny_model_dir, tmp_path / "adapter")
    spec = local(adapter, base=str(tiny_model_dir))
    loaded = models._loaded(models.resolve(spec))
    assert not isinstance(loaded.model, PeftModel)
    assert not any("lora_" in n for n, _ in loaded.model.named_parameters())
    ids = loaded.tokenizer("def add", return_tensors="pt")["input_ids"]
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(adapter))
    plain = models._loaded(models.resolve(local(tiny_model_dir)))
    with torch.no_grad():
        merged_logits = loaded.model(ids).logits
        assert torch.allclose(merged_logits, reference(ids).logits, atol=1e-4)
        assert not torch.allclose(merged_logits, plain.model(ids).logits)
    assert len(generate(spec, ["def add"], GenParams(max_new_tokens=3))) == 1

    folders = list(cache_dir().iterdir())
    assert len(folders) == 1 and (folders[0] / "model.safetensors").is_file()
    stamp = folders[0].stat().st_mtime_ns
    models.unload()
    models._loaded(models.resolve(spec))  # a second load (another process, an eval job) reuses it
    assert list(cache_dir().iterdir()) == folders and folders[0].stat().st_mtime_ns == stamp


def test_retrained_adapter_in_the_same_folder_merges_afresh(studio_home, tiny_model_dir, tmp_path):
    import time

    from pipeline.models.merged import merged_folder

    adapter = _tiny_adapter(tiny_model_dir, tmp_path / "adapter")
    first = merged_folder(adapter, str(tiny_model_dir))
    time.sleep(0.01)
    (adapter / "adapter_model.safetensors").touch()
    assert merged_folder(adapter, str(tiny_model_dir)) != first


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        generate(local(tmp_path / "nope"), ["x"])


def test_unknown_hub_id_offline_is_a_clear_error():
    with pytest.raises(ModelError, match="hub could not provide it"):
        generate({"name": "x", "kind": "hf", "path": "nobody/no-such-model-xyz"}, ["x"])


def test_openai_compatible_completion_and_chat():
    with OpenAIServer(key="sk-good") as srv:
        spec = {"name": "remote", "kind": "openai", "endpoint": srv.url, "path": "test-model"}
        outs = generate(spec, ["def f():", [{"role": "user", "content": "hello there"}]],
                        GenParams(max_new_tokens=9, stop=["there"]), api_key="sk-good")
        assert outs == ["echo: def f():", "echo: hello "]  # in prompt order, though sent concurrently
        by_path = {r["path"]: r["body"] for r in srv.requests}
        assert by_path["/v1/completions"]["prompt"] == "def f():"
        assert by_path["/v1/chat/completions"]["stop"] == ["there"]


def test_openai_compatible_streaming_uses_key_from_env(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-env")
    with OpenAIServer(key="sk-env") as srv:
        spec = {"name": "remote", "kind": "openai", "endpoint": srv.url, "path": "test-model",
                "api_key_env": "MY_KEY"}
        chunks = list(stream_chat(spec, [{"role": "user", "content": "one two three"}], GenParams()))
    assert chunks[-1] == "echo: one two three" and len(chunks) == 4


def test_wrong_api_key_is_a_clear_error():
    with OpenAIServer(key="sk-good") as srv:
        spec = {"name": "remote", "kind": "openai", "endpoint": srv.url, "path": "test-model",
                "api_key_env": "OPENAI_API_KEY"}
        with pytest.raises(ModelError, match="rejected the API key.*OPENAI_API_KEY"):
            generate(spec, ["x"], api_key="sk-bad")


def test_unreachable_endpoint_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        spec = {"name": "gone", "kind": "openai", "endpoint": f"http://127.0.0.1:{port}/v1", "path": "m"}
        with pytest.raises(ModelError, match="cannot reach"):
            list(stream_chat(spec, [{"role": "user", "content": "x"}]))


def test_remote_model_list_checks_url_and_key():
    from pipeline.models.backends.openai_compat import list_remote_models

    with OpenAIServer(models=("a", "b")) as srv:
        assert list_remote_models({"name": "r", "endpoint": srv.url}) == ["a", "b"]


def test_registered_model_is_resolved_by_name(store, tiny_model_dir):
    store.register_model("tiny", "local", str(tiny_model_dir))
    assert len(generate("tiny", ["x"], GenParams(max_new_tokens=2))) == 1


@pytest.mark.slow
def test_bundled_gguf_loads_through_transformers():
    from pipeline.models.default_model import bundled_gguf

    spec = {"name": "gguf", "kind": "gguf", "path": str(bundled_gguf())}
    reply = generate(spec, [[{"role": "user", "content": "What is 2+2?"}]], GenParams(max_new_tokens=12))[0]
    assert reply.strip()


@pytest.mark.slow
def test_embedded_default_model_answers_a_prompt(smollm2_dir):
    spec = local(smollm2_dir)
    reply = generate(spec, [[{"role": "user", "content": "Write a Python function that adds two numbers."}]],
                     GenParams(max_new_tokens=40))[0]
    assert "def " in reply and "return" in reply


def test_vllm_is_only_chosen_where_it_can_run(monkeypatch):
    import importlib.util

    from pipeline.models.backends import vllm_backend

    expected = importlib.util.find_spec("vllm") is not None and __import__("torch").cuda.is_available()
    assert vllm_backend.available() == expected
    monkeypatch.setenv("STUDIO_VLLM", "0")
    assert not vllm_backend.available()


def test_a_batch_reports_its_tokens_while_it_generates(tiny_model_dir):
    counts: list[tuple] = []
    outs = generate(local(tiny_model_dir), ["def add(a, b):", "func _ready():"],
                    GenParams(max_new_tokens=6, batch_size=2),
                    on_tokens=lambda n, finished=None: counts.append((n, finished)))
    assert len(outs) == 2
    assert len(counts) >= 2 and all(0 < n <= 2 for n, _ in counts)   # step by step, not once at the end
    assert [f for _, f in counts] == sorted(f for _, f in counts)     # answers only ever finish


def test_a_batch_counts_each_answer_when_it_ends_not_when_the_batch_does(tiny_model_dir):
    from pipeline import models

    spec = local(tiny_model_dir)
    prompts = ["def add(a, b):", "func _ready():"]
    loaded = models.load(spec)
    config = loaded.model.generation_config
    saved = config.eos_token_id
    first = loaded.tokenizer(generate(spec, prompts[:1], GenParams(max_new_tokens=1))[0],
                             add_special_tokens=False)["input_ids"]
    try:
        config.eos_token_id = first[0]    # the first prompt's answer now ends at its first token
        counts: list[tuple] = []
        generate(spec, prompts, GenParams(max_new_tokens=8, batch_size=2),
                 on_tokens=lambda n, finished=None: counts.append((n, finished)))
    finally:
        config.eos_token_id = saved
    assert counts[0][1] >= 1                 # one answer finished at the first step...
    assert len(counts) > 1                   # ...while the batch went on
    assert sum(n for n, _ in counts) < 2 * len(counts)   # and a finished row makes no more tokens
