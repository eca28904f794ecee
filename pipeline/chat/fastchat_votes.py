"""Arena votes in FastChat's battle format, both ways.

    export_battles(store, "battles.json")    # what FastChat's elo_analysis.py --clean-battle-file reads
    import_battles(store, "clean_battle.json")   # or .jsonl; votes marked as imported
    python -m pipeline chat battles export battles.json
    python -m pipeline chat battles import clean_battle_20240814.json

A record is FastChat's cleaned battle (fastchat/serve/monitor/clean_battle_data.py):
{"question_id", "model_a", "model_b", "winner": "model_a" | "model_b" | "tie" | "tie (bothbad)",
 "judge", "turn", "anony", "language", "tstamp", "conversation_a", "conversation_b", "dedup_tag"},
conversations as OpenAI-style [{"role", "content"}] lists. Our battle-mode votes (names hidden
until the vote) are `anony: true`, side-by-side votes `anony: false` — elo_analysis keeps only
anonymous ones, as the arena does. An export is a JSON array for `.json` (what clean_battle_data
writes) and one record a line for `.jsonl`; import reads either. Imported votes count in the
ratings like ours and are marked (`source`, and an `imported` count per model in the leaderboard).
FastChat's `judge` is an anonymised voter id; ours is "local" (a studio has no voter accounts).
An exported file is checked against FastChat's own rating code in tests/chat/test_fastchat_battles.py.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TypedDict

from pipeline.chat import ChatError

# FastChat's model names ("gpt-4-0613", "llama-2-70b-chat", "claude-2.1", "org/model"): a name from a
# file is shown on every leaderboard, so anything else (markup, control characters) is refused.
MODEL_NAME = re.compile(r"[\w][\w .:/@+()\-]{0,99}")
BATCH = 1000
TO_FASTCHAT = {"a": "model_a", "b": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
FROM_FASTCHAT = {v: k for k, v in TO_FASTCHAT.items()}


def _tstamp(at: str | None) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat((at or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _conversations(store, vote: dict) -> tuple[list[dict], list[dict]]:
    """Both sides' conversations up to the voted turn: from the chat while it exists, else the
    prompt and answers the vote kept."""
    if vote.get("chat_id") is not None and vote.get("turn") is not None:
        from pipeline.store import NotFoundError

        try:
            chat = store.get_chat(vote["chat_id"])
        except NotFoundError:  # deleted meanwhile: the vote's own copy below
            chat = None
        if chat:
            sides: tuple[list[dict], list[dict]] = ([], [])
            for turn in sorted({m["turn"] for m in chat["messages"] if m["turn"] <= vote["turn"]}):
                rows = [m for m in chat["messages"] if m["turn"] == turn]
                user = next((m["content"] for m in rows if m["role"] == "user"), None)
                for col, side in enumerate(sides):
                    answer = next((m["content"] for m in rows if m["role"] == "assistant" and m["col"] == col), None)
                    if user is not None and answer is not None:
                        side += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            if sides[0] and sides[1]:
                return sides
    return ([{"role": "user", "content": vote["prompt"]}, {"role": "assistant", "content": vote["answer_a"]}],
            [{"role": "user", "content": vote["prompt"]}, {"role": "assistant", "content": vote["answer_b"]}])


def battle_record(store, vote: dict) -> dict:
    extra = json.loads(vote["extra"]) if vote.get("extra") else {}
    if vote.get("source") and extra.get("record"):
        return extra["record"]  # an imported battle goes out exactly as it came in
    conv_a, conv_b = _conversations(store, vote)
    return {"question_id": f"codetune-{vote['id']}", "model_a": vote["model_a"], "model_b": vote["model_b"],
            "winner": TO_FASTCHAT[vote["winner"]], "judge": "local", "turn": len(conv_a) // 2,
            "anony": vote.get("mode") == "battle", "language": "unknown", "tstamp": _tstamp(vote.get("at")),
            "conversation_a": conv_a, "conversation_b": conv_b,
            "dedup_tag": {"high_freq": False, "sampled": True}}


def export_battles(store, path: str | Path) -> dict:
    from pipeline.paths import check_output_path

    path = check_output_path(path, "export")
    records = [battle_record(store, v) for v in store.votes_for_export()]
    tmp = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            if path.suffix.lower() == ".jsonl":
                fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            else:
                json.dump(records, fh, ensure_ascii=False, indent=1)
        tmp.replace(path)
    except OSError as exc:
        raise ChatError(f"cannot write {path}: {exc.strerror or exc}") from None
    return {"path": str(path), "battles": len(records),
            "anonymous": sum(1 for r in records if r["anony"])}


def _last_exchange(conversation, side: str) -> tuple[str, str, str | None]:
    if not isinstance(conversation, list) or not conversation:
        return "", "", f"conversation_{side} should be a list of messages"
    users = [m.get("content") for m in conversation if isinstance(m, dict) and m.get("role") == "user"]
    answers = [m.get("content") for m in conversation if isinstance(m, dict) and m.get("role") == "assistant"]
    user, answer = users[-1] if users else None, answers[-1] if answers else None
    if not isinstance(user, str) or not isinstance(answer, str):
        return "", "", f"conversation_{side} has no user message and answer"
    return user, answer, None


def vote_from_record(data: dict, source: str) -> tuple[dict | None, str | None]:
    """A vote row from one FastChat battle record, or why the record can't be one."""
    for key in ("model_a", "model_b", "winner"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return None, f"missing {key!r}"
    for key in ("model_a", "model_b"):
        if not MODEL_NAME.fullmatch(data[key]):
            return None, f"{key} {data[key][:40]!r} is not a model name (letters, digits, - _ . : / @ + ( ) and spaces)"
    if data["winner"] not in FROM_FASTCHAT:
        return None, f"winner {data['winner']!r} is not one of {', '.join(FROM_FASTCHAT)}"
    if data["model_a"] == data["model_b"]:
        return None, "model_a and model_b are the same model"
    prompt = answer_a = answer_b = ""
    if "conversation_a" in data or "conversation_b" in data:
        prompt, answer_a, error = _last_exchange(data.get("conversation_a"), "a")
        if not error:
            _, answer_b, error = _last_exchange(data.get("conversation_b"), "b")
        if error:
            return None, error
    key = json.dumps([data.get(k) for k in ("question_id", "model_a", "model_b", "winner", "judge", "tstamp",
                                            "conversation_a", "conversation_b")], sort_keys=True, default=str)
    return {"turn": data.get("turn") if isinstance(data.get("turn"), int) else None,
            "model_a": data["model_a"], "model_b": data["model_b"], "winner": FROM_FASTCHAT[data["winner"]],
            "prompt": prompt, "answer_a": answer_a, "answer_b": answer_b,
            "mode": "battle" if data.get("anony", True) else "side", "source": source,
            "import_ref": "fastchat:" + hashlib.sha256(key.encode()).hexdigest()[:24],
            "extra": {"record": data}}, None


class BattleImport(TypedDict):
    """What import_battles did: records read, votes added, already present, and the bad records."""
    file: str
    records: int
    imported: int
    already_present: int
    malformed: int
    errors: list[dict]   # {"line", "error"}, the first max_errors of them


def import_battles(store, path: str | Path, max_errors: int = 200) -> BattleImport:
    from pipeline.pairs.readers import ImportFileError, read_records

    path = Path(path)
    fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "json"
    report: BattleImport = {"file": path.name, "records": 0, "imported": 0, "already_present": 0, "malformed": 0,
                            "errors": []}
    batch: list[dict] = []

    def flush() -> None:  # in batches: a big file never sits in memory whole
        inserted, present = store.insert_imported_votes(batch)
        report["imported"] += inserted
        report["already_present"] += present
        batch.clear()

    try:
        for record in read_records(path, fmt):
            report["records"] += 1
            row, error = (None, record.error) if record.data is None else vote_from_record(record.data, path.name)
            if row is None:  # exactly one of row/error is set
                report["malformed"] += 1
                if len(report["errors"]) < max_errors:
                    report["errors"].append({"line": record.line, "error": error})
                continue
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
    except ImportFileError as exc:
        raise ChatError(str(exc)) from None
    if not batch and not report["imported"] and not report["already_present"] and report["malformed"]:
        raise ChatError(f"no usable battle in {path.name}: " + "; ".join(
            f"line {e['line']}: {e['error']}" for e in report["errors"][:3]))
    flush()
    return report


def mark_imported(store, rows: list[dict]) -> list[dict]:
    """Leaderboard rows with how many of each model's battles were imported."""
    counts = store.imported_vote_counts()
    return [dict(r, imported=counts.get(r["model"], 0)) for r in rows]
