"""llama.cpp backend (llama-cpp-python) for GGUF files: the fast path on a laptop's CPU.

Same surface as the transformers backend (`generate`, `stream`, `continuation_logprobs`, `lock`,
`render`), so chat, pass@k, labelling and judging run on it unchanged. The prompt is rendered with
the chat template stored in the GGUF (the one the converter copied from the tokenizer) and
tokenized with special tokens parsed and no BOS added, as the transformers backend does, so the
two engines see the same tokens. Built for CPU here; a build with CUDA offloads every layer.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from pipeline.models import GenParams, ModelError, Prompt, cut_at_stop

N_CTX = int(os.environ.get("STUDIO_LLAMA_CTX", "4096"))


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def gguf_quant(path: str | Path) -> str:
    """The file's quantization as people name it (f16, q8_0, q4_k_m, q4_1…), from its header."""
    from gguf import GGUFReader, LlamaFileType

    try:
        field = GGUFReader(str(path)).get_field("general.file_type")
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not a readable GGUF file: {exc}") from exc
    if field is None:
        return "unknown"
    name = LlamaFileType(int(field.contents())).name.lower()
    return name.removeprefix("mostly_").replace("all_f32", "f32")


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class LlamaCppModel:
    engine = "llama.cpp"
    model = None  # no transformers module: chat reads the context length from `tokenizer`

    def __init__(self, llm, path: str, template: str):
        self.llm = llm
        self.path = path
        self.template = template
        self.quant = gguf_quant(path)
        self.lock = threading.Lock()  # one llama context: one sequence at a time
        self.tokenizer = GGUFTokenizer(llm)

    @classmethod
    def load(cls, spec: dict) -> LlamaCppModel:
        from llama_cpp import Llama

        path = spec.get("gguf") or spec.get("path")
        if not path or not Path(path).is_file():
            raise ModelError(f"GGUF file {path} does not exist")
        import torch

        gpu_layers = -1 if torch.cuda.is_available() else 0  # offloads only where built with CUDA
        try:
            llm = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=_threads(), n_threads_batch=_threads(),
                        n_gpu_layers=gpu_layers, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp cannot load {path}: {exc}") from exc
        return cls(llm, str(path), spec.get("template") or "chat")

    # -- prompts --------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        from pipeline.models.templates import render_prompt

        return render_prompt(prompt, self.template, self.tokenizer)

    def tokens(self, text: str) -> list[int]:
        return self.tokenizer(text)["input_ids"]

    def _completion(self, prompt: Prompt, params: GenParams, *, stream: bool):
        ids = self.tokens(self.render(prompt))
        room = N_CTX - len(ids)
        if room <= 0:
            raise ModelError(f"the prompt is {len(ids)} tokens; llama.cpp's context here is {N_CTX} "
                             "(set STUDIO_LLAMA_CTX higher)")
        kwargs = dict(max_tokens=min(params.max_new_tokens, room), stop=list(params.stop) or None,
                      repeat_penalty=params.repetition_penalty or 1.0, stream=stream)
        if params.temperature > 0:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=0, min_p=0.0)
            if params.seed is not None:
                kwargs["seed"] = params.seed
        else:
            kwargs.update(temperature=0.0, top_k=1)
        return self.llm.create_completion(ids, **kwargs)

    def generate(self, prompts: list[Prompt], params: GenParams, on_tokens=None) -> list[str]:
        outputs = []
        with self.lock:
            for prompt in prompts:
                text = ""
                for chunk in self._completion(prompt, params, stream=True):
                    text += chunk["choices"][0]["text"]
                    if on_tokens:
                        on_tokens(1)
                outputs.append(cut_at_stop(text, params.stop))
        return outputs

    def stream(self, messages: Prompt, params: GenParams) -> Iterator[str]:
        """Yield the reply as it grows; closing the iterator stops generation at the next token."""
        so_far = ""
        if not self.lock.acquire(blocking=False):
            yield ""          # queued behind another session's answer: the reader shows "waiting"
            self.lock.acquire()
        try:
            chunks = self._completion(messages, params, stream=True)
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["text"]
                    so_far += piece
                    if piece:
                        yield cut_at_stop(so_far, params.stop)
            finally:
                chunks.close()
        finally:
            self.lock.release()

    def continuation_logprobs(self, context: Prompt, continuations: list[str], reply_so_far: str = "") -> list[float]:
        """log P(continuation | context + reply_so_far), scored token by token on the shared prefix
        (the context is evaluated once; each continuation rewinds the KV cache to it)."""
        import llama_cpp
        import numpy as np

        prefix = self.render(context) + reply_so_far
        base = self.tokens(prefix)
        out = []
        with self.lock:
            self.llm.reset()
            for cont in continuations:
                row = self.tokens(prefix + cont)
                k = 0
                while k < min(len(row), len(base)) and row[k] == base[k]:
                    k += 1
                start = max(1, k)
                self.llm.n_tokens = min(self.llm.n_tokens, start - 1)
                if self.llm.n_tokens < start - 1:
                    self.llm.eval(row[self.llm.n_tokens:start - 1])
                total = 0.0
                for t in range(start, len(row)):
                    self.llm.eval([row[t - 1]])
                    ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
                    logits = np.ctypeslib.as_array(ptr, shape=(self.llm.n_vocab(),)).astype(np.float64)
                    top = logits.max()
                    total += float(logits[row[t]] - top - np.log(np.exp(logits - top).sum()))
                out.append(total)
                self.llm.n_tokens = min(self.llm.n_tokens, k)
        return out


class GGUFTokenizer:
    """The GGUF's own tokenizer and chat template, with the few calls chat's prompt builder makes
    on a transformers tokenizer (count tokens, cut a message, apply the chat template)."""

    def __init__(self, llm):
        self.llm = llm
        self.chat_template = llm.metadata.get("tokenizer.chat_template")
        self.model_max_length = N_CTX
        self.bos_token = self._piece(llm.token_bos())
        self.eos_token = self._piece(llm.token_eos())

    def _piece(self, token: int | None) -> str:
        if token is None or token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def __call__(self, text: str, add_special_tokens: bool = False, **_) -> dict:
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=add_special_tokens, special=True)
        return {"input_ids": ids}

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return self.llm.detokenize(list(ids), special=not skip_special_tokens).decode("utf-8", errors="replace")

    def apply_chat_template(self, messages: list[dict], tokenize: bool = False,
                            add_generation_prompt: bool = True) -> str:
        if not self.chat_template:
            raise ModelError("this GGUF carries no chat template")
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        # The same Jinja settings transformers renders chat templates with.
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        return env.from_string(self.chat_template).render(
            messages=messages, add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token, eos_token=self.eos_token)


def _raise(message):
    raise ModelError(f"the model's chat template refused the messages: {message}")
