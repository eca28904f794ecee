"""OpenAI-compatible endpoints (OpenAI, vLLM, llama.cpp server, Ollama…) through the `openai` client.

A string prompt goes to /v1/completions (plain continuation); messages go to /v1/chat/completions.
The key is the session's (`api_key=`), else the environment variable the model names, else a
stand-in key for local servers that ignore keys. It is handed to the client and nowhere else.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipeline.models import GenParams, ModelError, Prompt, cut_at_stop

TIMEOUT_S = float(os.environ.get("STUDIO_OPENAI_TIMEOUT", "120"))


def secret_target(env_name: str, endpoint: str | None):
    """The gate's target for sending the server's variable `env_name` to `endpoint`."""
    from urllib.parse import urlsplit

    from pipeline import access

    host = (urlsplit(endpoint or "").hostname or "").lower() or None
    return access.Target(secret=env_name, host=host, what=f"send {env_name} to {host or 'an endpoint'}")


def resolve_key(spec: dict, api_key: str | None = None) -> str:
    """The session's key, else the server's variable the model names, if the gate lets it go to
    this endpoint's host (the owner binds each secret to one host in STUDIO_KEY_ENVS)."""
    from pipeline import access

    env_name = spec.get("api_key_env")
    access.require(access.Cap.SPEND_MONEY, access.Target(secret=None if api_key else env_name,
                                                         what=f"call {spec.get('endpoint')}"))
    if api_key:
        return api_key
    if env_name:
        access.require(access.Cap.USE_SECRET, secret_target(env_name, spec.get("endpoint")))
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    return "not-needed"  # vLLM/llama.cpp/Ollama accept any key; OpenAI will say 401 clearly


def client_for(spec: dict, api_key: str | None = None, *, max_retries: int = 2, timeout: float = TIMEOUT_S):
    import openai

    if not spec.get("endpoint"):
        raise ModelError(f"model {spec.get('name')!r} has no endpoint (base_url)")
    return openai.OpenAI(base_url=spec["endpoint"], api_key=resolve_key(spec, api_key),
                         max_retries=max_retries, timeout=timeout)


def explain(exc: Exception, spec: dict) -> ModelError:
    """Turn openai's exceptions into one sentence a person can act on."""
    import openai

    where = spec.get("endpoint")
    if isinstance(exc, openai.AuthenticationError):
        hint = f" (set {spec['api_key_env']} or paste a key)" if spec.get("api_key_env") else ""
        return ModelError(f"{where} rejected the API key{hint}")
    if isinstance(exc, openai.NotFoundError):
        return ModelError(f"{where} has no model {spec.get('path')!r}")
    if isinstance(exc, openai.RateLimitError):
        return ModelError(f"{where} is rate limiting us; try again later or lower the concurrency")
    if isinstance(exc, openai.APITimeoutError):
        return ModelError(f"{where} did not answer within {TIMEOUT_S:.0f}s")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(f"cannot reach {where}: is the server running and the URL right?")
    if isinstance(exc, openai.APIStatusError):
        return ModelError(f"{where} answered HTTP {exc.status_code}: {str(exc)[:200]}")
    return ModelError(f"{where}: {type(exc).__name__}: {exc}")


def _sampling(params: GenParams) -> dict:
    kw: dict[str, Any] = {"max_tokens": params.max_new_tokens, "temperature": params.temperature, "top_p": params.top_p}
    if params.stop:
        kw["stop"] = params.stop[:4]  # OpenAI accepts at most four
    if params.seed is not None:
        kw["seed"] = params.seed
    if params.repetition_penalty and params.repetition_penalty != 1.0:
        # Not in OpenAI's API; vLLM and llama.cpp servers read it from the request body.
        kw["extra_body"] = {"repetition_penalty": params.repetition_penalty}
    return kw


def _one(client, spec: dict, prompt: Prompt, params: GenParams) -> str:
    if isinstance(prompt, str):
        reply = client.completions.create(model=spec["path"], prompt=prompt, **_sampling(params))
        text = reply.choices[0].text if reply.choices else ""
    else:
        reply = client.chat.completions.create(model=spec["path"], messages=prompt, **_sampling(params))
        text = (reply.choices[0].message.content if reply.choices else "") or ""
    return cut_at_stop(text, params.stop)


def generate(spec: dict, prompts: list[Prompt], params: GenParams, *, api_key: str | None = None,
             concurrency: int = 8) -> list[str]:
    import openai

    client = client_for(spec, api_key)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(prompts)))) as pool:
            return list(pool.map(lambda p: _one(client, spec, p, params), prompts))
    except openai.OpenAIError as exc:
        raise explain(exc, spec) from exc


def stream_chat(spec: dict, messages: list[dict], params: GenParams, *,
                api_key: str | None = None) -> Iterator[str]:
    import httpx
    import openai

    client = client_for(spec, api_key)
    so_far, finished = "", False
    try:
        stream = client.chat.completions.create(model=spec["path"], messages=messages, stream=True,
                                                **_sampling(params))
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                so_far += chunk.choices[0].delta.content
                yield cut_at_stop(so_far, params.stop)
            finished = finished or bool(chunk.choices and chunk.choices[0].finish_reason)
    except openai.OpenAIError as exc:
        raise explain(exc, spec) from exc
    except httpx.HTTPError as exc:  # the connection broke while the body was streaming
        raise ModelError(f"{spec.get('endpoint')} dropped the connection mid-answer ({type(exc).__name__})") from exc
    if not finished:
        # Every OpenAI-compatible server ends a stream with a finish_reason; a body that just stops
        # is a server that died mid-answer, not a short answer.
        raise ModelError(f"{spec.get('endpoint')} closed the stream before the answer finished")


def list_remote_models(spec: dict, api_key: str | None = None) -> list[str]:
    """The ids an endpoint serves (the Models tab uses it to check a key and URL)."""
    import openai

    try:
        return sorted(m.id for m in client_for(spec, api_key, max_retries=0, timeout=10).models.list())
    except openai.OpenAIError as exc:
        raise explain(exc, spec) from exc
