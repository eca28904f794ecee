"""A labelling writer for the concurrency test, run as its own process:

    python -m tests.pairs_writer DB SNIPPET_IDS_JSON ROUNDS OUT_JSON

Round 0 writes a pair per snippet through the labeller's write path (`record_label`; every third
one fails first and is retried in round 1, as "retry failed" does). Later rounds fill the drafts
again with `fill_label`. It records the last value it actually wrote to each field (fill_label
reports the fields it kept because a person edited them), so the test can check that no machine
write was lost either.
"""
from __future__ import annotations

import json
import sys

from pipeline.store import Store


def main(db: str, snippet_ids: list[int], rounds: int, out: str) -> None:
    store = Store(db)
    written: dict[int, dict] = {}
    pair_of: dict[int, int] = {}
    for round_no in range(rounds):
        for i, sid in enumerate(snippet_ids):
            if round_no == 0 or (round_no == 1 and i % 3 == 0):
                failed = round_no == 0 and i % 3 == 0
                pid = store.record_label({
                    "instruction": "" if failed else f"machine {sid} r{round_no}",
                    "output": "" if failed else f"code {sid} r{round_no}", "origin": "label",
                    "snippet_id": sid, "language": "gdscript", "status": "failed" if failed else "draft",
                    "labeller": "writer", "prompt_version": "describe@1", "error": "HTTP 429" if failed else None,
                    "tokens_in": 10, "tokens_out": round_no})
                pair_of[sid] = pid
                continue
            pid = pair_of[sid]
            values = {"instruction": f"machine {sid} r{round_no}", "output": f"code {sid} r{round_no}",
                      "raw_reply": f"reply {sid} r{round_no}", "tokens_out": round_no}
            kept = store.fill_label(pid, values)
            written[pid] = {**written.get(pid, {}), **{k: v for k, v in values.items() if k not in kept}}
    with open(out, "w") as fh:
        json.dump({"written": written, "pairs": pair_of}, fh)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
