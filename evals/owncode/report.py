"""What the Evals tab's own-code panel and the Compare page show, as plain functions over the store.

    eval_rows(store)                 # one row per own-code eval with its figures
    item_rows(store, eval_id)        # the drill-down table, worst chrF first
    item_detail(store, eval_id, 3)   # instruction, reference, answer, their diff and the scores
"""
from __future__ import annotations

import difflib

EVAL_COLUMNS = ["id", "model", "dataset", "status", "items", "chrF", "exact", "valid", "loss", "doctests"]
ITEM_COLUMNS = ["item", "pair", "chrF", "exact", "valid", "loss", "doctest", "instruction"]


def eval_label(e: dict) -> str:
    return f"{e['id']} · {e['model']} · {e['dataset']}"


def label_id(label: str | None) -> int | None:
    return int(str(label).split(" · ")[0]) if label else None


def _fmt(value, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def eval_rows(store) -> list[list]:
    rows = []
    for e in store.list_owncode_evals():
        m = e.get("metrics") or {}
        doctests = (f"{m['doctest']:.0%} of {m['doctest_items']}" if m.get("doctest") is not None
                    else (m.get("doctests_skipped") or "-"))
        rows.append([e["id"], e["model"], e["dataset"], e["status"], m.get("items", "-"), _fmt(m.get("chrf"), "{:.1f}"),
                     _fmt(m.get("exact"), "{:.0%}"), _fmt(m.get("valid"), "{:.0%}"), _fmt(m.get("loss"), "{:.3f}"),
                     doctests])
    return rows


def item_rows(store, eval_id: int) -> list[list]:
    items = sorted(store.owncode_items(eval_id), key=lambda i: (i["chrf"], i["position"]))
    return [[i["position"], i["pair_id"], round(i["chrf"], 1), i["exact"], _fmt(i["valid"], "{}"),
             _fmt(i["loss"], "{:.3f}"), i["doctest"] or "-", " ".join(i["instruction"].split())[:100]]
            for i in items]


def item_detail(store, eval_id: int, position: int) -> dict:
    item = next((i for i in store.owncode_items(eval_id) if i["position"] == int(position)), None)
    if item is None:
        from pipeline.store import NotFoundError

        raise NotFoundError(f"own-code eval {eval_id} has no item {position}")
    # A missing newline at the end is not a difference a reader cares about.
    ref, ans = (t.rstrip("\n") + "\n" if t.strip() else "" for t in (item["reference"], item["answer"] or ""))
    diff = "".join(difflib.unified_diff(ref.splitlines(True), ans.splitlines(True),
                                        "reference (human-written)", "answer (model)"))
    detail = item.get("detail") or {}
    scores = (f"**item {item['position']}** (pair {item['pair_id']}) · chrF **{item['chrf']:.1f}** · "
              f"exact {'yes' if item['exact'] else 'no'} · syntax "
              f"{'-' if item['valid'] is None else ('valid' if item['valid'] else 'invalid')} · loss "
              f"{_fmt(item['loss'], '{:.3f}')} · doctests {item['doctest'] or 'none'}")
    notes = "; ".join(detail.get("validity") or []) + ("\n" + detail["doctest"] if detail.get("doctest") else "")
    return {"scores": scores, "instruction": item["instruction"], "reference": item["reference"],
            "answer": item["answer"] or "", "diff": diff or "(identical)", "raw": item["raw"] or "",
            "notes": notes.strip(), "language": item.get("language")}
