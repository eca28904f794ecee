"""Multi-turn judge suites, the MT-bench way.

    items = load_mt_bench("question.jsonl", references="reference_answer/gpt-4.jsonl")
    python -m evals judge import question.jsonl --references gpt-4.jsonl --name mt-bench

MT-bench's question file is one {"question_id", "category", "turns": [q1, q2], "reference"?: [r1, r2]}
a line; its reference answers are a separate file of {"question_id", "model_id", "choices":
[{"index", "turns": [r1, r2]}]}, matched by question_id and — as FastChat's gen_judgment does —
used for the categories that need one (math, reasoning, coding) unless every category is asked for.

Contestants answer at MT-bench's per-category temperatures (writing and roleplay 0.7, stem and
humanities 0.1, the rest greedy), as FastChat's gen_model_answer does, seeded by the run's seed.
A question of N turns is judged as N items, `QID/t1` … `QID/tN` (`expand_turns`), each with its
turn number. Contestants answer turn by turn, each turn seeing the model's own earlier answers
(`answer_turns`). A turn-1 item is judged like any single-turn item; a later turn gets MT-bench's
multi-turn prompt: the whole conversation (every user question and this assistant's answers),
the judge told to rate the answer to the last question, references for every turn when given, and
the same verdict formats ([[rating]] / [[A]] [[B]] [[C]]), so evals/judge/verdicts.py parses them.
Results per turn and per category: `turn_summary`.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evals.judge import prompts
from pipeline.errors import ConfigError
from pipeline.jsonl import parse_lines

NEED_REF_CATS = ("math", "reasoning", "coding", "arena-hard-200")   # FastChat's common.py
# FastChat's gen_model_answer.py samples MT-bench answers at these temperatures (0 = greedy).
TEMPERATURE = {"writing": 0.7, "roleplay": 0.7, "extraction": 0.0, "math": 0.0, "coding": 0.0,
               "reasoning": 0.0, "stem": 0.1, "humanities": 0.1, "arena-hard-200": 0.0}


def answer_temperature(item: dict) -> float:
    """MT-bench's per-category temperature for its multi-turn questions; greedy for the rest."""
    return TEMPERATURE.get(item["category"], 0.7) if item.get("turn") else 0.0


def question_fields(raw: dict) -> dict:
    """MT-bench's `question_id` / `turns` / `reference` list as a suite entry (turns kept whole)."""
    if not isinstance(raw, dict) or "turns" not in raw:
        return raw
    turns = raw.get("turns")
    entry = {k: v for k, v in raw.items() if k not in ("turns", "reference", "question_id")}
    entry.setdefault("id", raw.get("question_id"))
    if isinstance(turns, list) and turns and all(isinstance(t, str) for t in turns):
        entry["instruction"] = turns[0]
        entry["turns"] = turns
    else:
        entry["turns_error"] = "'turns' must be a non-empty list of strings"
    reference = raw.get("reference")
    if isinstance(reference, list):
        entry["references"] = reference
    elif reference is not None:
        entry["reference"] = reference
    return entry


def load_references(path: str | Path) -> dict[str, list[str]]:
    """question_id -> reference turns, from FastChat's model-answer shape (the first choice)."""
    from evals.judge.suites import SuiteFileError

    refs, problems = {}, []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteFileError(f"cannot read the reference answers {path}: {exc}") from None
    for where, row, problem in parse_lines(lines):
        try:
            if problem:
                raise TypeError   # not a JSON object: the same complaint as a wrong shape
            turns = row["choices"][0]["turns"]
            if not (isinstance(turns, list) and all(isinstance(t, str) for t in turns)):
                raise TypeError
            refs[str(row["question_id"])] = turns
        except (KeyError, IndexError, TypeError):
            problems.append(where)
    if problems:
        raise SuiteFileError(f"{Path(path).name}: not reference answers of the shape {{question_id, model_id, "
                             f"choices: [{{index, turns: [...]}}]}} at {', '.join(problems[:8])}; nothing was stored")
    return refs


def attach_references(items: list[dict], refs: dict[str, list[str]], all_categories: bool = False) -> int:
    """Give items their reference turns (those without their own); returns how many got one."""
    from evals.judge.suites import SuiteFileError

    unknown = sorted(set(refs) - {i["id"] for i in items})
    if unknown and len(unknown) == len(refs):
        raise SuiteFileError(f"none of the reference answers' question_ids ({', '.join(unknown[:5])} …) is in the "
                             "suite; nothing was stored")
    attached = 0
    for item in items:
        if item["id"] not in refs or item.get("references") or item.get("reference"):
            continue
        if not all_categories and item["category"] not in NEED_REF_CATS:
            continue
        item["references"] = refs[item["id"]]
        attached += 1
    return attached


def expand_turns(items: list[dict], mode: str = "single") -> list[dict]:
    """Each question of several turns as one item per turn (`QID/tN`); others unchanged."""
    if mode in ("multi", "rubric") and any(i.get("turns") for i in items):
        raise ConfigError("this suite has multi-turn questions; judge it in single or pairwise mode (as MT-bench does)")
    out = []
    for item in items:
        turns = item.get("turns") or []
        if len(turns) < 2:
            refs = item.get("references") or []
            out.append(dict(item, reference=item.get("reference") or (refs[0] if refs else None)))
            continue
        refs = item.get("references") or []
        for k, question in enumerate(turns, 1):
            out.append(dict(item, id=f"{item['id']}/t{k}", question_id=item["id"], turn=k, instruction=question,
                            reference=refs[k - 1] if len(refs) >= k else None))
    return out


def history(item: dict, model: str, answers: dict) -> list[tuple[str, str]] | None:
    """[(question, this model's answer)] for turns 1..item's turn; None while one is missing."""
    pairs = []
    for k in range(1, item["turn"] + 1):
        answer = answers.get((model, f"{item['question_id']}/t{k}"))
        if answer is None:
            return None
        pairs.append((item["turns"][k - 1], answer))
    return pairs


def contestant_conversation(item: dict, earlier: list[str]) -> list[dict]:
    """What a contestant is asked at turn k: its own conversation so far, then the next question."""
    first = prompts.contestant_messages(dict(item, instruction=item["turns"][0]))
    messages = list(first)
    for k, answer in enumerate(earlier, 1):
        messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": item["turns"][k]}]
    return messages


def turn_prompt(spec: dict, messages: list[dict], max_new_tokens: int):
    """A later turn's prompt exactly as the chat builds it for this model (its template's
    multi-turn layout for a local checkpoint, the messages for an endpoint), cut to its context:
    (prompt, stop words)."""
    from pipeline.chat.prompting import prepare
    from pipeline.chat.settings import ChatSettings

    prepared = prepare(spec, messages, ChatSettings(max_new_tokens=max_new_tokens))
    return prepared.prompt, prepared.stop


def answer_turns(store, run: dict, items: list[dict], cfg, progress, log) -> None:
    """Contestants answer turn by turn: turn k is asked once the model's turn k-1 answer is stored."""
    from pipeline.models import GenParams, generate

    params = GenParams(max_new_tokens=cfg.answer_max_new_tokens, temperature=0.0, batch_size=cfg.answer_batch_size,
                       seed=cfg.seed)
    total = len(cfg.contestants) * len(items)
    for turn in sorted({i.get("turn") or 1 for i in items}):
        have = {k: r["answer"] for k, r in store.judge_answers(run["id"]).items()}
        for model in cfg.contestants:
            spec = store.get_model(model)
            todo = [i for i in items if (i.get("turn") or 1) == turn and (model, i["id"]) not in have]
            log(f"answers: turn {turn}, {model}: {len(todo)} to generate")
            todo.sort(key=answer_temperature)  # stable: suite order within each temperature
            chunks = [todo[s:s + cfg.answer_batch_size] for s in range(0, len(todo), cfg.answer_batch_size)]
            chunks = [[i for i in c if answer_temperature(i) == t] for c in chunks
                      for t in sorted({answer_temperature(i) for i in c})]
            for chunk in chunks:
                asks, stop = [], []
                for item in chunk:
                    if (item.get("turn") or 1) > 1:
                        earlier = [have[(model, f"{item['question_id']}/t{k}")] for k in range(1, item["turn"])]
                        ask, stop = turn_prompt(spec, contestant_conversation(item, earlier),
                                                cfg.answer_max_new_tokens)
                        asks.append(ask)
                    else:
                        asks.append(prompts.contestant_messages(item))
                replies = generate(spec, asks, replace(params, temperature=answer_temperature(chunk[0]), stop=stop))
                store.add_judge_answers(run["id"], model, {i["id"]: r for i, r in zip(chunk, replies)})
                have.update({(model, i["id"]): r for i, r in zip(chunk, replies)})
                done = sum(1 for m in cfg.contestants for i in items if (m, i["id"]) in have)
                progress(done, total, f"answers {done}/{total} (turn {turn}, {model})")


def _conversation(label: str, turns: list[tuple[str, str]]) -> str:
    body = "".join(f"\n### User:\n{q}\n\n### {label}:\n{a.strip()}\n" for q, a in turns)
    return f"\n<|The Start of {label}'s Conversation with User|>\n{body}\n<|The End of {label}'s Conversation with User|>\n"


def _references(item: dict) -> str:
    refs = (item.get("references") or [])[:item["turn"]]
    if not refs:
        return ""
    body = "".join(f"\n### User:\n{q}\n\n### Reference answer:\n{r}\n" for q, r in zip(item["turns"], refs))
    return f"\n<|The Start of Reference Answer|>\n{body}\n<|The End of Reference Answer|>\n"


def single_messages(item: dict, turns: list[tuple[str, str]]) -> list[dict]:
    """MT-bench single-v1-multi-turn (math-v1-multi-turn with a reference)."""
    guide = (" Your evaluation should consider correctness and helpfulness. You will be given reference answers; "
             "compare the assistant's answer with the reference and identify its mistakes." if item.get("references")
             else "")
    user = (f"[Category: {item['category']}]\n" + _references(item) + _conversation("Assistant", turns)
            + f"\nPlease act as an impartial judge and evaluate the quality of the response provided by the AI "
              f"assistant to the user question. Your evaluation should focus on the assistant's answer to the "
              f"{_ordinal(item['turn'])} user question.{guide} Begin your evaluation by providing a short "
              "explanation. After providing your explanation, you must rate the response on a scale of 1 to 10 "
              "by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".")
    return [{"role": "system", "content": prompts.SYSTEM}, {"role": "user", "content": user}]


def pairwise_messages(item: dict, first: list[tuple[str, str]], second: list[tuple[str, str]]) -> list[dict]:
    """MT-bench pair-v2-multi-turn (pair-math-v1-multi-turn with a reference)."""
    user = (f"[Category: {item['category']}]\n" + _references(item) + _conversation("Assistant A", first)
            + _conversation("Assistant B", second)
            + f"\nPlease act as an impartial judge and evaluate the quality of the responses provided by two AI "
              f"assistants to the user questions. You should focus on who provides a better answer to the "
              f"{_ordinal(item['turn'])} user question. Avoid any position biases and do not let the order or the "
              "length of the responses influence you. After providing your explanation, output your final verdict "
              "by strictly following this format: \"[[A]]\" if assistant A is better, \"[[B]]\" if assistant B is "
              "better, and \"[[C]]\" for a tie.")
    return [{"role": "system", "content": prompts.SYSTEM}, {"role": "user", "content": user}]


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def later_turn_messages(mode: str, item: dict, systems: list[str], answers: dict) -> list[dict] | None:
    """The judge prompt for a turn after the first (None while an answer is missing)."""
    talks = [t for t in (history(item, m, answers) for m in systems) if t is not None]
    if len(talks) < len(systems):
        return None
    if mode == "single":
        return single_messages(item, talks[0])
    if mode == "pairwise":
        return pairwise_messages(item, talks[0], talks[1])
    raise ConfigError(f"{mode} mode does not judge multi-turn questions; use single or pairwise (as MT-bench)")


def turn_summary(judgments: list[dict], items: list[dict]) -> dict:
    """Per turn (and per category within each turn): mean single score per model, pairwise wins."""
    turn_of = {i["id"]: i.get("turn") or 1 for i in items}
    table: dict = {}
    for j in judgments:
        if j.get("status") != "ok" or j["item_id"] not in turn_of:
            continue
        turn = f"turn {turn_of[j['item_id']]}"
        for key in (turn, f"{turn} · {j['category']}"):
            row = table.setdefault(key, {})
            for model, score in (j.get("scores") or {}).items():
                row.setdefault(model, {"scores": []})["scores"].append(score)
            if j.get("winner"):
                for model in j["systems"]:
                    cell = row.setdefault(model, {"scores": []})
                    outcome = "ties" if j["winner"] == "tie" else ("wins" if j["winner"] == model else "losses")
                    cell[outcome] = cell.get(outcome, 0) + 1
    for row in table.values():
        for cell in row.values():
            scores = cell.pop("scores")
            if scores:
                cell["mean"], cell["n"] = round(sum(scores) / len(scores), 3), len(scores)
    return dict(sorted(table.items()))


def format_turns(table: dict) -> list[str]:
    """The per-turn table as text lines (CLI `judge show`, the Judge panel)."""
    lines = ["by turn (mean score, or wins/losses/ties):"]
    for key, row in table.items():
        cells = []
        for model, cell in sorted(row.items()):
            value = f"{cell['mean']:.2f} (n={cell['n']})" if "mean" in cell else \
                f"{cell.get('wins', 0)}W {cell.get('losses', 0)}L {cell.get('ties', 0)}T"
            cells.append(f"{model} {value}")
        lines.append(f"  {key:<30} " + " | ".join(cells))
    return lines
