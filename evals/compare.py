"""Comparing evals: two pass@k evals task by task, and the leaderboard that joins every measure.

    compare_evals(store, 3, 7)["flipped_to_pass"]   # tasks eval 7 solves that eval 3 did not
    compare_evals(store, 3, 7)["warnings"]          # e.g. the two ran on different engines/quantizations
    board = leaderboard(store)                      # per model: pass@1, validity, judge score, Elo
    to_markdown(board), to_csv(board)               # the same table the Compare page and CLI show

A task counts as solved when at least one of its samples passed; with several samples per task
the per-task pass rate (c/n, i.e. pass@1) is compared too. The leaderboard takes, per model, the
latest finished pass@k eval (and its validity rate), the latest finished judged eval the model took
part in, and the arena Elo when votes exist; every number carries the id of the eval it came from.
"""
from __future__ import annotations

import csv
import io

from pipeline.store.base import StoreError

COLUMNS = ["model", "pass@1", "validity", "judge score", "arena Elo", "sources"]


def _per_task(store, eval_id: int) -> dict[str, dict]:
    return {r["task_id"]: r for r in store.eval_task_summary(eval_id) if r["executed"]}


def compare_evals(store, a: int, b: int) -> dict:
    if a == b:
        raise StoreError("choose two different evals to compare")
    ea, eb = store.get_eval(a), store.get_eval(b)
    ta, tb = _per_task(store, a), _per_task(store, b)
    if not ta or not tb:
        raise StoreError(f"eval {a if not ta else b} has no executed samples yet")
    rows, to_pass, to_fail = [], [], []
    for task_id in [t for t in ta if t in tb]:
        ra, rb = ta[task_id], tb[task_id]
        rate_a, rate_b = ra["passed"] / ra["executed"], rb["passed"] / rb["executed"]
        solved_a, solved_b = ra["passed"] > 0, rb["passed"] > 0
        if solved_b and not solved_a:
            change = "fixed"
            to_pass.append(task_id)
        elif solved_a and not solved_b:
            change = "broken"
            to_fail.append(task_id)
        elif rate_b > rate_a:
            change = "better"
        elif rate_b < rate_a:
            change = "worse"
        else:
            change = "same"
        rows.append({"task_id": task_id, "a_pass_rate": rate_a, "b_pass_rate": rate_b,
                     "change": change, "b_error": rb["first_error"] if change == "broken" else None})
    common = len(rows)
    return {
        "warnings": engine_warnings(store, a, b),
        "a": {"id": a, "model": ea["model"], "suite": ea["suite"]},
        "b": {"id": b, "model": eb["model"], "suite": eb["suite"]},
        "common_tasks": common,
        "a_solved": sum(1 for r in rows if r["a_pass_rate"] > 0),
        "b_solved": sum(1 for r in rows if r["b_pass_rate"] > 0),
        "flipped_to_pass": to_pass, "flipped_to_fail": to_fail,
        "only_in_a": sorted(set(ta) - set(tb)), "only_in_b": sorted(set(tb) - set(ta)),
        "tasks": rows,
    }


def _engines_label(engines: list[dict]) -> str:
    return ", ".join(f"{e['engine'] or 'unrecorded'}/{e['quant'] or '?'}" for e in engines) or "none"


def engine_warnings(store, a: int, b: int) -> list[str]:
    """A sentence for each way the two evals' answers were produced differently (engine or
    quantization): a gap between them may come from that, not from the models."""
    ea, eb = store.eval_engines(a), store.eval_engines(b)
    pairs_a = {(e["engine"], e["quant"]) for e in ea}
    pairs_b = {(e["engine"], e["quant"]) for e in eb}
    if pairs_a == pairs_b:
        return []
    out = []
    if {e for e, _ in pairs_a} != {e for e, _ in pairs_b}:
        out.append(f"the two evals ran on different engines (eval {a}: {_engines_label(ea)}; "
                   f"eval {b}: {_engines_label(eb)}): part of the difference may be the engine's")
    else:
        out.append(f"the two evals ran at different quantizations (eval {a}: {_engines_label(ea)}; "
                   f"eval {b}: {_engines_label(eb)}): part of the difference may be the quantization's")
    return out


# -- the leaderboard --------------------------------------------------------------------------
def arena_ratings(store) -> dict[str, dict]:
    """model -> Elo row from the chat stage's arena leaderboard (empty when there are no votes)."""
    try:
        from pipeline.chat.leaderboard import arena_leaderboard
    except ImportError:  # the chat stage has no leaderboard in this checkout
        return {}
    return {r["model"]: r for r in arena_leaderboard(store) if r.get("battles")}


def leaderboard(store, judge_run_id: int | None = None) -> dict:
    """{"rows": [...], "categories": {...}, "judge_run": id|None}; rows sorted by judge score, pass@1."""
    models: dict[str, dict] = {}

    def row(name: str) -> dict:
        return models.setdefault(name, {"model": name})

    for e in store.list_evals(limit=1000):  # newest first: the first one seen per model wins
        m = e["metrics"] or {}
        if e["status"] != "done" or not e["model"]:
            continue
        r = row(e["model"])
        p1 = (m.get("pass_at_k") or {}).get("1")
        if p1 is not None and "pass@1" not in r:
            r["pass@1"] = {"value": p1, "eval": e["id"], "suite": e["suite"]}
        if m.get("validity_rate") is not None and "validity" not in r:
            r["validity"] = {"value": m["validity_rate"], "eval": e["id"], "suite": e["suite"]}
    runs = [r for r in store.list_judge_runs(limit=1000) if r["status"] in ("done", "stopped") and r["metrics"]]
    chosen = next((r for r in runs if r["id"] == judge_run_id), None) if judge_run_id else (runs[0] if runs else None)
    if judge_run_id and chosen is None:
        raise StoreError(f"judged eval {judge_run_id} has no results yet; see `python -m evals judge list`")
    unreliable = {run["id"]: _void(run) for run in runs}
    for run in runs:
        for name, score in run["metrics"]["models"].items():
            r = row(name)
            if score["score"] is not None and "judge score" not in r and (chosen is None or run is chosen
                                                                          or name not in chosen["contestants"]):
                r["judge score"] = {"value": score["score"], "run": run["id"], "mode": run["mode"],
                                    "judge": run["judge"], "unreliable": unreliable.get(run["id"], "")}
    for name, elo in arena_ratings(store).items():
        row(name)["arena Elo"] = {"value": elo["elo"], "low": elo.get("elo_low"), "high": elo.get("elo_high"),
                                  "battles": elo["battles"]}
    rows = sorted(models.values(), key=lambda r: (-_rank_value(r.get("judge score")),
                                                   -(r.get("pass@1") or {}).get("value", -1), r["model"]))
    return {"rows": rows, "judge_run": chosen["id"] if chosen else None,
            "judge_unreliable": unreliable.get(chosen["id"], "") if chosen else "",
            "warnings": _board_engine_warnings(store, rows),
            "categories": chosen["metrics"]["categories"] if chosen else {},
            "judge": {k: chosen[k] for k in ("judge", "mode", "suite")} if chosen else None}


def _void(run: dict) -> str:
    """Why a judged eval's own figures void it ('' when they do not): shown instead of its score."""
    from evals.judge.reliability import assess_run

    assessment = assess_run(run)
    return "" if assessment["reliable"] else "; ".join(assessment["reasons"])


def _rank_value(judge_score: dict | None) -> float:
    if not judge_score or judge_score.get("unreliable"):
        return -1
    return judge_score["value"]
def _board_engine_warnings(store, rows: list[dict]) -> list[str]:
    """The leaderboard sets pass@1 figures side by side: say so when their answers came from
    different engines or quantizations."""
    used = {}
    for r in rows:
        if r.get("pass@1"):
            used[r["model"]] = (r["pass@1"]["eval"], store.eval_engines(r["pass@1"]["eval"]))
    kinds = {tuple(sorted((e["engine"] or "", e["quant"] or "") for e in engines)) for _, engines in used.values()}
    if len(kinds) < 2:
        return []
    detail = "; ".join(f"{m} (eval {i}): {_engines_label(engines)}" for m, (i, engines) in used.items())
    return [f"the pass@1 figures come from different engines or quantizations ({detail}): part of a gap "
            "may be the engine's, not the model's"]


def _cell(value: dict | None, column: str) -> tuple[str, str]:
    """(text, source) for one number of the leaderboard."""
    if not value:
        return "", ""
    if column == "arena Elo":
        from pipeline.chat.leaderboard import rating_text

        return rating_text(value["value"], value.get("low"), value.get("high"), value["battles"]), \
            f"{value['battles']} battles"
    if column == "judge score":
        source = f"judged eval {value['run']} ({value['mode']}, judge {value['judge']})"
        if value.get("unreliable"):
            return "unreliable", f"{source}: {value['unreliable']}"
        return f"{value['value']:.2f}", source
    return f"{value['value']:.3f}", f"eval {value['eval']} ({value['suite']})"


def table_rows(board: dict) -> list[list[str]]:
    out = []
    for r in board["rows"]:
        cells, sources = [r["model"]], []
        for column in COLUMNS[1:-1]:
            text, source = _cell(r.get(column), column)
            cells.append(text)
            if source:
                sources.append(f"{column}: {source}")
        out.append(cells + ["; ".join(sources)])
    return out


def category_rows(board: dict) -> tuple[list[str], list[list]]:
    cats = board["categories"]
    models = sorted({m for by_model in cats.values() for m in by_model})
    return ["category", *models], [[c, *[cats[c].get(m) for m in models]] for c in sorted(cats)]


def to_csv(board: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(table_rows(board))
    if board["categories"]:
        header, rows = category_rows(board)
        writer.writerow([])
        writer.writerow([f"judge scores by category (judged eval {board['judge_run']})"])
        writer.writerow(header)
        writer.writerows([[c, *["" if v is None else v for v in vs]] for c, *vs in rows])
    return buf.getvalue()


def to_markdown(board: dict) -> str:
    def table(header, rows):
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows]
        return "\n".join(lines)

    if not board["rows"]:
        return "No finished evals yet: run pass@k or a judged eval first."
    text = "## Leaderboard\n\n" + table(COLUMNS, table_rows(board))
    text += "".join(f"\n\n> Warning: {w}." for w in board.get("warnings", ()))
    if board["categories"]:
        header, rows = category_rows(board)
        j = board["judge"]
        text += (f"\n\n## Judge scores by category (judged eval {board['judge_run']}: {j['mode']}, judge "
                 f"{j['judge']}, suite {j['suite']})\n\n")
        if board.get("judge_unreliable"):
            text += f"**Unreliable** — {board['judge_unreliable']}. The table is kept for inspection only.\n\n"
        text += table(header, rows)
    return text
