"""Model registry rows. Keys never come here: only the *name* of the env var that holds one."""
from __future__ import annotations

from typing import Any

from pipeline.store.base import NotFoundError, StoreBase, StoreError, from_json, to_json

MODEL_KINDS = ("local", "hf", "openai", "gguf")


class ModelsMixin(StoreBase):
    def register_model(self, name: str, kind: str, path: str | None = None, *, base: str | None = None,
                       endpoint: str | None = None, api_key_env: str | None = None,
                       template: str = "chat", run_id: int | None = None, meta: dict | None = None,
                       replace: bool = False) -> dict:
        if kind not in MODEL_KINDS:
            raise StoreError(f"unknown model kind {kind!r}; use one of {', '.join(MODEL_KINDS)}")
        if not name.strip():
            raise StoreError("a model needs a name")
        row: dict[str, Any] = {"name": name.strip(), "kind": kind, "path": path, "base": base, "endpoint": endpoint,
               "api_key_env": api_key_env, "template": template, "run_id": run_id,
               "meta": to_json(meta or {})}
        with self.tx() as db:
            existing = db.execute("SELECT id FROM models WHERE name=?", [row["name"]]).fetchone()
            if existing and not replace:
                raise StoreError(f"a model named {name!r} is already registered")
            if existing:
                db.table("models").update(existing[0], row)
            else:
                db.table("models").insert(row)
        return self.get_model(row["name"])

    def get_model(self, name: str) -> dict:
        rows = list(self.db["models"].rows_where("name = ?", [name]))
        if not rows:
            raise NotFoundError(f"no model named {name!r} is registered")
        model = rows[0]
        model["meta"] = from_json(model["meta"], {})
        return model

    def update_model_meta(self, name: str, **changes: Any) -> dict:
        """Merge `changes` into a model's meta (e.g. the GGUF files exported from it)."""
        model = self.get_model(name)
        meta = dict(model["meta"] or {})
        meta.update(changes)
        with self.tx() as db:
            db.table("models").update(model["id"], {"meta": to_json(meta)})
        return self.get_model(name)

    def list_models(self) -> list[dict]:
        return [dict(m, meta=from_json(m["meta"], {})) for m in self.db["models"].rows_where(order_by="id")]

    def delete_model(self, name: str) -> None:
        with self.tx() as db:
            # delete_where says nothing when no row matched: a typo must not read as "Removed".
            if db.execute("DELETE FROM models WHERE name = ?", [name]).rowcount == 0:
                raise NotFoundError(f"no model named {name!r}")
