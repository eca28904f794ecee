"""Two own-code evals of the same dataset version, compared item by item with their confidence.

    result = compare_owncode(store, base_eval_id, tuned_eval_id)
    result["headline"]   # 'tuned beats base on your held-out code: +4.1 chrF (95 % CI 1.9–6.3, p = 0.001; …)'
    python -m evals owncode compare 3 4

Every score is compared on the items both evals have it for (validity only where both answers
were checkable, loss only for local models, doctests only on items that carry them). The
headline is chrF, the score every item has; the other rows say whether they agree.
"""
from __future__ import annotations

from evals.owncode.paired import paired_comparison, verdict_sentence
from evals.owncode.run import OwnCodeError

# name, label, higher is better, digits, how a value is turned into a number
METRICS = (
    ("chrf", "chrF", True, 1, float),
    ("exact", "exact match", True, 2, float),
    ("valid", "syntax validity", True, 2, float),
    ("loss", "reference loss", False, 3, float),
    ("doctest", "doctest pass rate", True, 2, lambda v: 1.0 if v == "passed" else 0.0),
)


def model_label(evaluation: dict) -> str:
    return evaluation.get("name") or evaluation["model"]


def compare_owncode(store, a_id: int, b_id: int, *, seed: int = 0) -> dict:
    """A (the baseline, e.g. the base model) vs B (the candidate, e.g. the fine-tune)."""
    a, b = store.get_owncode_eval(a_id), store.get_owncode_eval(b_id)
    if a["dataset_id"] != b["dataset_id"]:
        raise OwnCodeError(f"eval {a_id} is on {a['dataset']} and eval {b_id} on {b['dataset']}: a paired "
                           f"comparison needs both models on the same held-out items")
    items_a = {i["position"]: i for i in store.owncode_items(a_id)}
    items_b = {i["position"]: i for i in store.owncode_items(b_id)}
    shared = sorted(set(items_a) & set(items_b))
    if not shared:
        raise OwnCodeError(f"evals {a_id} and {b_id} have no answered item in common yet")
    name_a, name_b = model_label(a), model_label(b)
    if name_a == name_b:
        name_a, name_b = f"{name_a} (eval {a_id})", f"{name_b} (eval {b_id})"
    rows = []
    for key, label, higher, digits, number in METRICS:
        keep = [p for p in shared if _scored(items_a[p], key) and _scored(items_b[p], key)]
        if not keep:
            continue
        result = paired_comparison([number(items_a[p][key]) for p in keep],
                                   [number(items_b[p][key]) for p in keep], higher, seed=seed)
        result.update(metric=key, label=label, sentence=verdict_sentence(result, name_a, name_b, label, digits=digits))
        rows.append(result)
    headline = rows[0]["sentence"]
    if len(shared) < max(len(items_a), len(items_b)):
        headline += f" (on the {len(shared)} items both evals answered)"
    per_item = [{"position": p, "pair_id": items_a[p]["pair_id"], "chrf_a": items_a[p]["chrf"],
                 "chrf_b": items_b[p]["chrf"], "diff": items_b[p]["chrf"] - items_a[p]["chrf"]} for p in shared]
    return {"a": {"id": a_id, "name": name_a, "model": a["model"]}, "b": {"id": b_id, "name": name_b, "model": b["model"]},
            "dataset": a["dataset"], "items": len(shared), "metrics": rows, "headline": headline, "per_item": per_item}


def _scored(item: dict, key: str) -> bool:
    value = item.get(key)
    return value in ("passed", "failed") if key == "doctest" else value is not None


def comparison_lines(result: dict) -> list[str]:
    """The CLI's and the Compare page's text: the headline, then one line per score."""
    lines = [f"{result['b']['name']} vs {result['a']['name']} on {result['items']} held-out items of {result['dataset']}",
             result["headline"], ""]
    for r in result["metrics"]:
        lines.append(f"{r['label']:<18} {r['mean_a']:>8.3f} -> {r['mean_b']:<8.3f} {r['sentence']}")
    return lines
