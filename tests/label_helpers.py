"""Setup shared by the labelling tests: snippets written straight into a real store, an endpoint model."""
from __future__ import annotations

import hashlib


def add_repo(store, full_name: str = "octo/game", engine_version: str | None = "4.x", language="gdscript") -> int:
    return store.db["repos"].insert({"full_name": full_name, "url": f"https://github.com/{full_name}",
                                     "language": language, "engine_version": engine_version,
                                     "status": "extracted"}).last_pk


def add_snippets(store, n: int, *, language: str = "python", repo_id: int | None = None,
                 start: int = 0, docstring: str | None = None) -> list[int]:
    """n snippets `def snippet_<i>(): return <i>` (the server names its reply after the function)."""
    ids = []
    for i in range(start, start + n):
        code = (f"func snippet_{i}():\n\treturn {i}\n" if language == "gdscript"
                else f"def snippet_{i}():\n    return {i}\n")
        ids.append(store.db["snippets"].insert({
            "repo_id": repo_id, "path": f"src/mod_{i}.{'gd' if language == 'gdscript' else 'py'}",
            "language": language, "kind": "function", "name": f"snippet_{i}", "code": code,
            "docstring": docstring, "lines": 2, "content_hash": hashlib.sha1(code.encode()).hexdigest(),
        }).last_pk)
    return ids


def register_endpoint(store, server, name: str = "test-model", price: tuple | None = (1.0, 2.0, 0.5),
                      api_key_env: str | None = None) -> dict:
    model = store.register_model(name, "openai", "served-model", endpoint=server.base_url,
                                 api_key_env=api_key_env)
    if price:
        store.set_price("served-model", *price)
    return model


def label_pairs(store, labeller: str = "test-model") -> list[dict]:
    return list(store.db["pairs"].rows_where("labeller = ?", [labeller], order_by="snippet_id"))


FAST = dict(backoff_base_s=0.05, backoff_max_s=2.0, request_timeout_s=1.0)
