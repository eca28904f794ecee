"""One small lineage chain for the Lineage tests (tab handlers and browser): repo (at a known
commit) -> snippet -> approved pair -> frozen dataset -> run -> checkpoint -> eval."""
from __future__ import annotations

from evals.passk.suites import import_humaneval
from pipeline.pairs.export import freeze_dataset
from tests.pairs_helpers import add_repo_with_snippets, label


def lineage_chain(store) -> dict:
    """The chain's references as the Lineage tab takes them: {"repo", "run", "eval"}."""
    repo_id, snippets = add_repo_with_snippets(store, "lineage/demo", ["func a():\n\treturn 1\n"])
    store.update_repo(repo_id, commit_sha="feedfacecafebeef")
    label(store, snippets[0], "Write a", "func a():\n\treturn 1\n", status="approved", repo_id=repo_id)
    d = freeze_dataset(store, "lineage-demo", {"repo": "lineage/demo"})
    run = store.create_run("lineage-run", {}, status="done", dataset_id=d["id"], dataset=d["name"],
                           dataset_version=d["version"], base_model="lineage-base", method="lora")
    store.register_model("lineage-ckpt", "local", "/nowhere", run_id=run["id"])
    import_humaneval(store)
    eval_id = store.create_eval("humaneval", "lineage-ckpt", {})
    return {"repo": f"repo:{repo_id}", "eval": f"eval:{eval_id}", "run": f"run:{run['id']}"}
