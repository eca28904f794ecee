"""Lineage on a real store: a score traced back to its commits and a repo traced forward to its
scores, each link re-centrable, from the library and from `python -m pipeline lineage`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.passk.suites import import_humaneval
from pipeline.errors import StudioError
from pipeline.lineage import trace
from pipeline.lineage.trace import render
from pipeline.pairs.export import freeze_dataset
from tests.pairs_helpers import add_repo_with_snippets, label

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chain(store):
    """repo → 2 snippets → 2 pairs (+1 commit pair) → dataset → run → checkpoint → eval and judge run."""
    repo_id, snippet_ids = add_repo_with_snippets(store, "octo/game", ["func a():\n\treturn 1\n",
                                                                       "func b():\n\treturn 2\n"])
    store.update_repo(repo_id, commit_sha="0123456789abcdef")
    pair_ids = [label(store, s, f"Write function {i}", "func x():\n\tpass\n", status="approved", repo_id=repo_id)
                for i, s in enumerate(snippet_ids)]
    other_repo, [other_snippet] = add_repo_with_snippets(store, "someone/else", ["func c():\n\treturn 3\n"])
    label(store, other_snippet, "Unused", "func y():\n\tpass\n", status="rejected", repo_id=other_repo)
    dataset = freeze_dataset(store, "demo", {"status": ["approved"]})
    run = store.create_run("lora-demo", {"method": "lora"}, status="done", dataset_id=dataset["id"],
                           dataset="demo", dataset_version=dataset["version"], base_model="base-model",
                           method="lora")
    store.register_model("base-model", "local", "/models/base")
    store.register_model("lora-demo-step-10", "local", "/runs/lora-demo/checkpoint-10", base="base-model",
                         run_id=run["id"], meta={"run_id": run["id"], "step": 10})
    import_humaneval(store)
    eval_id = store.create_eval("humaneval", "lora-demo-step-10", {"n_samples": 1})
    store.update_eval(eval_id, status="done", metrics={"pass_at_k": {"1": 0.25}})
    base_eval = store.create_eval("humaneval", "base-model", {"n_samples": 1})
    return {"repo": repo_id, "snippets": snippet_ids, "pairs": pair_ids, "dataset": dataset, "run": run,
            "eval": eval_id, "base_eval": base_eval, "other_repo": other_repo}


def refs(levels, kind):
    return [n.ref for level in levels if level.kind == kind for n in level.nodes]


def test_a_score_traces_back_to_the_repo_and_commit(store, chain):
    lineage = trace(store, f"eval:{chain['eval']}")
    assert lineage.focus.ref == f"eval:{chain['eval']}" and "pass@1 0.250" in lineage.focus.detail
    up = lineage.upstream
    assert [level.kind for level in up] == ["model", "run", "dataset", "pair", "snippet", "repo"]
    assert refs(up, "model") == ["model:lora-demo-step-10"]
    assert refs(up, "run") == [f"run:{chain['run']['id']}"]
    assert refs(up, "dataset") == [f"dataset:{chain['dataset']['id']}"]
    assert sorted(refs(up, "pair")) == sorted(f"pair:{p}" for p in chain["pairs"])
    assert refs(up, "repo") == [f"repo:{chain['repo']}"]     # the rejected pair's repo never fed it
    assert "@ 0123456789ab" in up[-1].nodes[0].detail


def test_a_repo_traces_forward_to_the_scores_it_fed(store, chain):
    down = trace(store, f"repo:{chain['repo']}").downstream
    assert [level.kind for level in down] == ["snippet", "pair", "dataset", "run", "model", "score"]
    assert refs(down, "score") == [f"eval:{chain['eval']}"]      # not the base model's eval
    unused = trace(store, f"repo:{chain['other_repo']}").downstream
    assert [level.kind for level in unused] == ["snippet", "pair"]  # its pair was never frozen


def test_every_node_re_centres_and_walks_the_whole_chain_within_three_hops(store, chain):
    lineage = trace(store, f"eval:{chain['eval']}")
    dataset_ref = refs(lineage.upstream, "dataset")[0]
    repo_ref = refs(trace(store, dataset_ref).upstream, "repo")[0]      # hop 2
    assert repo_ref == f"repo:{chain['repo']}"
    assert f"eval:{chain['eval']}" in refs(trace(store, repo_ref).downstream, "score")   # and back


def test_a_pair_shows_the_datasets_runs_and_scores_it_fed(store, chain):
    down = trace(store, f"pair:{chain['pairs'][0]}").downstream
    assert refs(down, "dataset") == [f"dataset:{chain['dataset']['id']}"]
    assert refs(down, "score") == [f"eval:{chain['eval']}"]


def test_datasets_resolve_by_name_and_version(store, chain):
    assert trace(store, "dataset:demo@1").focus.ref == f"dataset:{chain['dataset']['id']}"
    assert trace(store, "repo:octo/game").focus.ref == f"repo:{chain['repo']}"


@pytest.mark.parametrize("ref, message", [("eval", "not a lineage reference"), ("score:1", "not a lineage reference"),
                                          ("eval:abc", "eval ids are numbers"), ("run:999", "no training run")])
def test_bad_references_are_clear(store, ref, message):
    with pytest.raises(StudioError, match=message):
        trace(store, ref)


def test_the_cli_prints_the_same_chain(store, chain, studio_home):
    env = dict(os.environ, STUDIO_HOME=str(studio_home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pipeline", "lineage", f"eval:{chain['eval']}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == render(trace(store, f"eval:{chain['eval']}")) + "\n"
    as_json = subprocess.run([sys.executable, "-m", "pipeline", "lineage", "repo:1", "--json"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert json.loads(as_json.stdout)["focus"]["ref"] == "repo:1"
    bad = subprocess.run([sys.executable, "-m", "pipeline", "lineage", "nope"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("error: not a lineage reference")


def test_the_repos_and_whole_commits_come_first(store, chain):
    from studio.lineage_tab import sources_markdown

    lineage = trace(store, f"eval:{chain['eval']}")
    assert [s.repo for s in lineage.sources] == ["octo/game"]
    assert lineage.sources[0].commit == "0123456789abcdef"           # whole, not cut to 12 characters
    text = render(lineage)
    assert text.index("stands on 1 repository:") < text.index("upstream (where it came from)")
    assert "octo/game @ commit 0123456789abcdef" in text
    md = sources_markdown(lineage)
    assert md.startswith("**Stands on**") and "`0123456789abcdef`" in md
    assert "no repository recorded" in sources_markdown(trace(store, f"eval:{chain['base_eval']}"))
