"""Results as rows and a figure: what the Evals tab and the CLI show (no UI code here).

    eval_rows(store)                   # one dict per eval: model, suite, n, pass@1/10, validity
    pass_at_k_figure(eval_rows(store)) # grouped bars, one group per suite, one bar per model
    sample_detail(store, eval_id, "HumanEval/3", 0)   # prompt, completion, program, error
"""
from __future__ import annotations

import json

from evals.passk.languages import solution_code
from evals.passk.prompting import program_prefix


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}"


def eval_rows(store, limit: int = 200) -> list[dict]:
    rows = []
    for e in store.list_evals(limit=limit):
        m = e["metrics"] or {}
        k = m.get("pass_at_k") or {}
        plus = m.get("pass_at_k_plus") or {}
        rows.append({"id": e["id"], "name": e.get("name") or "", "model": e["model"] or "",
                     "suite": e["suite"], "status": e["status"],
                     "n": e["params"].get("n_samples", ""), "samples": m.get("samples", ""),
                     "pass@1": k.get("1"), "pass@10": k.get("10"), "pass@1+": plus.get("1"),
                     "validity": m.get("validity_rate"), "job": e["job_id"] or ""})
    return rows


def table(rows: list[dict], columns: list[str]) -> list[list]:
    """Rows as lists for a table: scores to three decimals, missing values blank."""
    return [[_fmt(r[c]) if isinstance(r[c], float) or r[c] is None else r[c] for c in columns]
            for r in rows]


def pass_at_k_figure(rows: list[dict], metric: str = "pass@1"):
    """Grouped bar chart of `metric` per suite (group) and model (bar); latest eval per pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latest: dict[tuple[str, str], float] = {}
    for r in rows:  # rows are newest first: keep the newest finished eval of each pair
        if r[metric] is not None and (r["suite"], r["model"]) not in latest:
            latest[(r["suite"], r["model"])] = r[metric]
    suites = sorted({s for s, _ in latest})
    models = sorted({m for _, m in latest})
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if not latest:
        ax.text(0.5, 0.5, "no finished evals yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        xs = [j + i * width for j, s in enumerate(suites) if (s, model) in latest]
        ys = [latest[(s, model)] for s in suites if (s, model) in latest]
        bars = ax.bar(xs, ys, width, label=model)
        ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=8)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(suites))], suites)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def task_rows(store, eval_id: int) -> list[dict]:
    """Per task: passes out of samples (base and extended) and the first failure."""
    out = []
    for t in store.eval_task_summary(eval_id):
        error = (t["first_error"] or "").strip().splitlines()
        out.append({"task_id": t["task_id"], "passed": f"{t['passed']}/{t['executed']}",
                    "passed+": f"{t['passed_plus']}/{t['executed_plus']}" if t["executed_plus"] else "",
                    "valid": f"{t['valid']}/{t['checked']}" if t["checked"] else "",
                    "failing test": t["failing_test"] or "", "error": error[0][:200] if error else ""})
    return out


def sorted_task_rows(store, eval_id: int) -> list[dict]:
    """Task rows with the never-passed tasks first, as the drill-down lists them."""
    rows = task_rows(store, eval_id)
    rows.sort(key=lambda r: (r["passed"].split("/")[0] != "0", r["task_id"]))
    return rows


def sample_detail(store, eval_id: int, task_id: str, sample_idx: int = 0) -> dict:
    """Everything about one sample: what was asked, what came back, what ran and how it ended."""
    from pipeline.store import NotFoundError

    e = store.get_eval(eval_id)
    samples = store.eval_samples(eval_id, task_id=task_id)
    sample = next((s for s in samples if s["sample_idx"] == int(sample_idx)), None)
    if sample is None:
        raise NotFoundError(f"eval {eval_id} has no sample {sample_idx} for task {task_id!r}")
    task = next((t for t in store.suite_tasks(e["suite"]) if t["task_id"] == task_id), None)
    prompt = sample["prompt"] or ""
    if not prompt and task is not None:
        prompt = "(no prompt recorded: these samples were scored from a file; the task's prompt)\n" \
            + task["prompt"]
    if prompt.startswith("[{"):
        prompt = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in json.loads(prompt))
    program = ""
    if task is not None:
        prefix = program_prefix(task, e["params"].get("task_type", "synthesize"))
        program = solution_code(task["language"], prefix, sample["completion"] or "",
                                sample["mode"] or "continuation") + "\n" + (task["test"] or "")
    return {"language": task["language"] if task else "python", "prompt": prompt,
            "raw": sample["raw"] or "", "completion": sample["completion"] or "",
            "program": program, "verdict": sample["verdict"] or "not run",
            "error": "\n".join(x for x in (sample["failing_test"] and f"failing test: {sample['failing_test']}",
                                           sample["error"], sample["output"]) if x),
            "samples": len(samples), "valid": sample["valid"], "findings": sample["findings"]}
