"""Every eval answer records the engine and quantization that wrote it; Compare and the leaderboard
warn when two compared evals differ in them."""
from __future__ import annotations

import pytest

from pipeline import models

pytest.importorskip("llama_cpp", reason="llama-cpp-python is built by `make setup`")


@pytest.fixture(autouse=True)
def fresh_cache():
    models.unload()
    yield
    models.unload()


def _eval_with(store, model: str, engine: str, tasks: list[dict], passed: list[bool]) -> int:
    from evals.passk.generate import EvalConfig, generate_batch

    config = EvalConfig(model=model, limit=len(tasks), max_new_tokens=8, execute=False, engine=engine,
                        batch_size=len(tasks))
    rows = generate_batch(config, [(t, 0) for t in tasks])
    eval_id = store.create_eval("humaneval", model, config.to_dict())
    store.add_eval_samples(eval_id, rows)
    store.record_verdicts(eval_id, [{"task_id": t["task_id"], "sample_idx": 0, "verdict": "passed" if p else "failed",
                                     "passed": p} for t, p in zip(tasks, passed)])
    store.update_eval(eval_id, status="done", metrics={"pass_at_k": {"1": sum(passed) / len(passed)}})
    return eval_id


@pytest.mark.slow
def test_answers_carry_their_engine_and_compare_warns_when_they_differ(store, tiny_model_dir):
    from evals.compare import compare_evals, leaderboard, to_markdown
    from evals.passk.suites import import_humaneval, load_tasks
    from pipeline.models.default_model import bundled_gguf

    import_humaneval(store)
    tasks = list(load_tasks(store, "humaneval").values())[:2]
    store.register_model("tiny", "local", str(tiny_model_dir), template="alpaca")
    store.register_model("smol", "gguf", str(bundled_gguf()), template="chat")

    a = _eval_with(store, "tiny", "auto", tasks, [True, False])
    b = _eval_with(store, "smol", "auto", tasks, [True, True])
    assert {(s["engine"], s["quant"]) for s in store.eval_samples(a)} == {("transformers", "fp32")}
    assert {(s["engine"], s["quant"]) for s in store.eval_samples(b)} == {("llama.cpp", "q4_1")}
    assert store.eval_engines(b) == [{"engine": "llama.cpp", "quant": "q4_1", "samples": 2}]

    warned = compare_evals(store, a, b)["warnings"]
    assert len(warned) == 1 and "different engines" in warned[0]
    assert "transformers/fp32" in warned[0] and "llama.cpp/q4_1" in warned[0]
    board = leaderboard(store)
    assert board["warnings"] and "different engines or quantizations" in board["warnings"][0]
    assert "Warning: the pass@1 figures come from different engines" in to_markdown(board)

    # The same engine and quantization on both sides (told transformers): no warning.
    c = _eval_with(store, "tiny", "transformers", tasks, [False, True])
    assert {(s["engine"], s["quant"]) for s in store.eval_samples(c)} == {("transformers", "fp32")}
    assert compare_evals(store, a, c)["warnings"] == []


def test_evals_cli_compare_prints_the_warning(store, tiny_model_dir, capsys):
    from evals.__main__ import make_parser
    from evals.passk.suites import import_humaneval, load_tasks
    from pipeline.cli import run_cli
    from pipeline.models.default_model import bundled_gguf

    import_humaneval(store)
    tasks = list(load_tasks(store, "humaneval").values())[:1]
    store.register_model("tiny", "local", str(tiny_model_dir), template="alpaca")
    store.register_model("smol", "gguf", str(bundled_gguf()), template="chat")
    a = _eval_with(store, "tiny", "auto", tasks, [True])
    b = _eval_with(store, "smol", "auto", tasks, [False])
    assert run_cli(make_parser(), ["passk", "compare", str(a), str(b)]) == 0
    assert "warning: the two evals ran on different engines" in capsys.readouterr().out
    assert run_cli(make_parser(), ["passk", "show", str(b)]) == 0
    assert '"engine": "llama.cpp"' in capsys.readouterr().out
