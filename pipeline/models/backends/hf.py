"""transformers backend: a local folder, a hub id, a GGUF file, or base + LoRA adapter.

Device and dtype are chosen here once: CUDA → bf16 (fp16 without bf16 support) and
flash-attention 2 when the package is installed, otherwise `sdpa`; CPU → float32 + `sdpa`.
"""
from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

from pipeline.models import GenParams, ModelError, Prompt, cut_at_stop, is_adapter_dir


def _adapter_base(path: str) -> str:
    """The base model a PEFT adapter folder was trained on (its adapter_config.json says)."""
    import json

    config = json.loads((Path(path) / "adapter_config.json").read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelError(f"{path} is a LoRA adapter that does not name its base model; register it with a base")
    return base


def _hub_offline_hint(path: str, exc: Exception) -> ModelError:
    return ModelError(
        f"cannot load model {path!r}: it is not a folder on this machine and the Hugging Face hub "
        f"could not provide it ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
        "Check the path or hub id, or register a local folder."
    )


class LocalModel:
    def __init__(self, model, tokenizer, device: str, template: str):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.template = template
        self.lock = threading.Lock()  # one generate at a time per model: torch already uses all cores

    @classmethod
    def load(cls, spec: dict) -> LocalModel:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path, base, kind = spec.get("path"), spec.get("base"), spec["kind"]
        if not path:
            raise ModelError(f"model {spec.get('name')!r} has no path or hub id")
        cuda = torch.cuda.is_available()
        device = "cuda" if cuda else "cpu"
        dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else torch.float32
        attn = "flash_attention_2" if cuda and importlib.util.find_spec("flash_attn") else "sdpa"
        kwargs: dict = {"dtype": dtype, "attn_implementation": attn}
        source, tok_source = path, path
        if kind == "gguf":
            file = Path(path)
            if not file.is_file():
                raise ModelError(f"GGUF file {path} does not exist")
            source = tok_source = str(file.parent)
            kwargs["gguf_file"] = file.name
            kwargs.pop("attn_implementation")
        if is_adapter_dir(path):
            base = base or _adapter_base(path)
            tok_source = path if (Path(path) / "tokenizer_config.json").exists() else base
            # Generation runs on the adapter folded into its base (merged once, cached on disk):
            # an unmerged peft adapter costs extra matmuls on every token.
            from pipeline.models.merged import merged_folder

            try:
                source = tok_source = str(merged_folder(path, base, tokenizer_source=tok_source))
            except (OSError, ValueError) as exc:
                raise _hub_offline_hint(base, exc) from exc
        elif kind == "local" and not Path(path).exists():
            raise ModelError(f"model folder {path} does not exist")
        try:
            tok_kwargs = {"gguf_file": kwargs["gguf_file"]} if "gguf_file" in kwargs else {}
            tokenizer = AutoTokenizer.from_pretrained(tok_source, **tok_kwargs)
            model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as exc:
            raise _hub_offline_hint(source, exc) from exc
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # decoder-only batching pads on the left
        # transformers wraps PreTrainedModel.to with functools.wraps, whose typeshed type does not bind
        # self, so mypy takes the device for the model
        model.to(device).eval()  # type: ignore[arg-type]
        return cls(model, tokenizer, device, spec.get("template") or "chat")

    # -- prompts --------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        from pipeline.models.templates import render_prompt

        return render_prompt(prompt, self.template, self.tokenizer)

    def _gen_kwargs(self, params: GenParams) -> dict:
        kw = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if params.temperature > 0:
            kw.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.repetition_penalty and params.repetition_penalty != 1.0:
            kw["repetition_penalty"] = params.repetition_penalty
        if params.stop:
            kw.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        return kw

    def generate(self, prompts: list[Prompt], params: GenParams, on_tokens=None) -> list[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class CountTokens(StoppingCriteria):
            """Never stops generation: after each step reports the tokens just made (one per row
            still going) and how many rows of the batch have ended, so a caller counts finished
            answers as they finish, not only when the whole batch returns."""

            def __init__(self, width: int, ends: torch.Tensor):
                self.width, self.ends, self.going = width, ends, None

            def __call__(self, input_ids, scores, **kwargs):
                ended = torch.isin(input_ids[:, self.width:], self.ends).any(dim=1)
                made = int(input_ids.shape[0]) if self.going is None else self.going
                self.going = int((~ended).sum())
                on_tokens(made, finished=int(ended.sum()))
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        texts = [self.render(p) for p in prompts]
        outputs: list[str] = []
        with self.lock, torch.inference_mode():
            if params.seed is not None:
                torch.manual_seed(params.seed)
            for i in range(0, len(texts), max(1, params.batch_size)):
                chunk = texts[i:i + params.batch_size]
                enc = self.tokenizer(chunk, return_tensors="pt", padding=True,
                                     add_special_tokens=False).to(self.device)
                extra = {}
                if on_tokens:
                    count = CountTokens(enc["input_ids"].shape[1], self._end_ids())
                    extra["stopping_criteria"] = StoppingCriteriaList([count])
                out = self.model.generate(**enc, **self._gen_kwargs(params), **extra)
                new = out[:, enc["input_ids"].shape[1]:]
                outputs += [cut_at_stop(t, params.stop)
                            for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]
        return outputs

    def _end_ids(self):
        """Tokens that end a row: generation's eos ids, and the pad id a finished row is filled with."""
        import torch

        eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids = set(eos if isinstance(eos, (list, tuple)) else [eos])
        ids |= {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        return torch.tensor(sorted(i for i in ids if i is not None), device=self.device)

    def continuation_logprobs(self, context: Prompt, continuations: list[str], reply_so_far: str = "") -> list[float]:
        """log P(continuation | context + reply_so_far) for each continuation, in one forward pass.

        Tokenized as context + continuation together (a tokenizer may merge across the seam),
        and scored over the tokens after the context's own tokens."""
        import torch

        prefix = self.render(context) + reply_so_far
        base = self.tokenizer(prefix, add_special_tokens=False)["input_ids"]
        rows = [self.tokenizer(prefix + c, add_special_tokens=False)["input_ids"] for c in continuations]
        starts = []
        for ids in rows:  # the first position where this row leaves the context's tokens
            k = 0
            while k < min(len(ids), len(base)) and ids[k] == base[k]:
                k += 1
            starts.append(max(1, k))
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):  # right padding: positions stay those of an unpadded row
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        with self.lock, torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        out = []
        for i, r in enumerate(rows):
            out.append(float(sum(logp[i, t - 1, r[t]] for t in range(starts[i], len(r)))))
        return out

    def stream(self, messages: Prompt, params: GenParams) -> Iterator[str]:
        """Yield the reply as it grows; closing the iterator stops generation within a token."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        text = self.render(messages)
        enc = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=300)
        stop = threading.Event()
        errors: list[BaseException] = []

        class StopWhenClosed(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return stop.is_set()

        def work():
            try:
                with torch.inference_mode():   # the caller holds self.lock for this answer
                    if params.seed is not None:
                        torch.manual_seed(params.seed)
                    self.model.generate(**enc, streamer=streamer, **self._gen_kwargs(params),
                                        stopping_criteria=StoppingCriteriaList([StopWhenClosed()]))
            except BaseException as exc:  # surfaced to the caller below, not lost in the thread
                errors.append(exc)
                streamer.end()

        # The model's lock is taken here, in the reader's thread, so of two sessions asking at once
        # exactly one answers first and the other says it waits ("" before any text).
        if not self.lock.acquire(blocking=False):
            yield ""
            self.lock.acquire()
        try:
            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            so_far = ""
            try:
                for piece in streamer:
                    so_far += piece
                    if piece:
                        yield cut_at_stop(so_far, params.stop)
            finally:
                # The reader left (page closed, Stop pressed, first token measured): free the model.
                stop.set()
                worker.join()
        finally:
            self.lock.release()
        if errors:
            raise ModelError(f"generation failed: {errors[0]}") from errors[0]
