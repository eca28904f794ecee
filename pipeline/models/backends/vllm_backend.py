"""vLLM in-process batch generation, used by `generate` for local/hub models when vLLM is
installed and a CUDA GPU is present (eval generation of thousands of samples). Streaming chat
stays on transformers; adapters are served through vLLM's LoRA support.

Set STUDIO_VLLM=0 to force transformers even where vLLM is available.
"""
from __future__ import annotations

import importlib.util
import os
import threading

from pipeline.models import GenParams, Prompt, cut_at_stop

_engines: dict[tuple, object] = {}
_lock = threading.Lock()


def available() -> bool:
    if os.environ.get("STUDIO_VLLM", "1") == "0" or importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _engine(spec: dict):
    from vllm import LLM

    key = (spec.get("path"), spec.get("base"))
    with _lock:
        if key not in _engines:
            model = spec.get("base") or spec["path"]
            _engines[key] = LLM(model=model, dtype="auto", enable_lora=bool(spec.get("base")),
                                gpu_memory_utilization=float(os.environ.get("STUDIO_VLLM_GPU_MEM", "0.85")))
        return _engines[key]


def generate(spec: dict, prompts: list[Prompt], params: GenParams) -> list[str]:
    from vllm import SamplingParams

    llm = _engine(spec)
    tokenizer = llm.get_tokenizer()
    texts = [p if isinstance(p, str) else
             tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    sampling = SamplingParams(n=1, temperature=params.temperature, top_p=params.top_p,
                              max_tokens=params.max_new_tokens, stop=params.stop or None, seed=params.seed,
                              repetition_penalty=params.repetition_penalty or 1.0)
    lora = None
    if spec.get("base"):
        from vllm.lora.request import LoRARequest

        lora = LoRARequest("adapter", 1, spec["path"])
    outs = llm.generate(texts, sampling, lora_request=lora, use_tqdm=False)
    return [cut_at_stop(o.outputs[0].text, params.stop) for o in outs]
