"""Walk the store's links a level at a time, upstream (towards the code) and downstream (towards
the scores). Levels are capped for display; each keeps the true total."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.errors import StudioError
from pipeline.store import NotFoundError, Store

KINDS = ("eval", "judge", "model", "run", "dataset", "pair", "snippet", "repo", "chat")
SHOW = 25   # nodes listed per level (the level's total is always given)


class LineageError(StudioError):
    """A lineage reference cannot be understood; the message shows the accepted forms."""


@dataclass
class Node:
    ref: str        # "run:2": pass it back to trace() to re-centre on this node
    title: str
    detail: str = ""


@dataclass
class Level:
    kind: str
    nodes: list[Node]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.nodes)


@dataclass
class Source:
    """A repository a trace stands on, whole: where it is, the exact commit(s), its license."""
    ref: str
    repo: str
    url: str
    commit: str                 # the commit the snippets were extracted at ('' = a working tree)
    license: str
    mined_commits: list[str] = field(default_factory=list)   # commits whose diffs became pairs


@dataclass
class Lineage:
    focus: Node
    upstream: list[Level] = field(default_factory=list)
    downstream: list[Level] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)     # the answer first: repos and commits

    def to_dict(self) -> dict:
        return asdict(self)


def parse_ref(ref: str) -> tuple[str, str]:
    kind, sep, key = (ref or "").strip().partition(":")
    kind = {"judge_run": "judge", "checkpoint": "model"}.get(kind.strip().lower(), kind.strip().lower())
    if not sep or kind not in KINDS or not key.strip():
        raise LineageError(f"not a lineage reference: {ref!r}; use kind:id with kind one of "
                           f"{', '.join(KINDS)} (e.g. eval:3, dataset:demo@1, repo:owner/name)")
    return kind, key.strip()


def _level(kind: str, nodes: list[Node], total: int | None = None) -> Level:
    return Level(kind, nodes[:SHOW], len(nodes) if total is None else total)


# -- nodes ---------------------------------------------------------------------------------------
def _eval_node(e: dict) -> Node:
    p1 = (e.get("metrics") or {}).get("pass_at_k", {}).get("1")
    score = f" · pass@1 {p1:.3f}" if isinstance(p1, (int, float)) else ""
    return Node(f"eval:{e['id']}", f"eval {e['id']} · {e['suite']}", f"model {e['model']} · {e['status']}{score}")


def _judge_node(j: dict) -> Node:
    return Node(f"judge:{j['id']}", f"judge run {j['id']} · {j['suite']} ({j['mode']})",
                f"judge {j['judge']} · {j['status']}")


def _model_node(m: dict) -> Node:
    where = f"run {m['run_id']}" if m.get("run_id") else (m.get("path") or m.get("kind") or "")
    return Node(f"model:{m['name']}", f"model {m['name']}", f"{m.get('kind', '')} · {where}".strip(" ·"))


def _run_node(r: dict) -> Node:
    return Node(f"run:{r['id']}", f"run {r['id']} · {r['name']}",
                f"{r.get('method') or ''} on {r.get('base_model') or '?'} · {r['status']}")


def _dataset_node(d: dict) -> Node:
    size = f"{d['size']} pairs" if d.get("size") is not None else f"{d.get('pairs', '?')} of its pairs"
    if d.get("test_size"):   # the held-out split (issue 24): trained on, or only scored
        size += f" ({d['size'] - d['test_size']} train, {d['test_size']} held-out test)"
    return Node(f"dataset:{d['id']}", f"dataset {d['name']}@{d['version']}", size)


def _pair_node(p: dict) -> Node:
    return Node(f"pair:{p['id']}", f"pair {p['id']} · {p['origin']} · {p['status']}", (p.get("instruction") or "")[:80])


def _chat_node(c: dict) -> Node:
    # A pair sent from a chat stands on that conversation (up to the answer, or that turn alone).
    how = {"conversation": "with the turns before it", "turn_only": "that turn only, without its context"}
    detail = f"turn {c['turn'] + 1} · {how.get(c.get('context') or '', '')}".rstrip(" ·") if "turn" in c else \
        f"{c.get('mode', '')} · {', '.join(c.get('models') or [])}"
    return Node(f"chat:{c['chat_id'] if 'chat_id' in c else c['id']}",
                f"chat {c['chat_id'] if 'chat_id' in c else c['id']}" + (f" · {c['model']}" if c.get("model") else ""),
                detail)


def _snippet_node(s: dict) -> Node:
    return Node(f"snippet:{s['id']}", f"snippet {s['id']} · {s.get('name') or s['kind']}",
                f"{s['path']}:{s.get('start_line') or ''}")


def _repo_node(r: dict, commits: set[str] | None = None) -> Node:
    at = f"@ {(r.get('commit_sha') or 'working tree')[:12]}"
    extra = f" · commits {', '.join(sorted(c[:10] for c in commits))}" if commits else ""
    return Node(f"repo:{r['id']}", f"repo {r['full_name']}", f"{at} · {r.get('license') or 'license ?'}{extra}")


# -- resolving a reference ------------------------------------------------------------------------
def _resolve(store: Store, kind: str, key: str):
    try:
        if kind == "eval":
            return store.get_eval(int(key))
        if kind == "judge":
            return store.get_judge_run(int(key))
        if kind == "model":
            model = store.lineage_model(key)
            if model is None:
                raise NotFoundError(f"no model named {key!r}")
            return model
        if kind == "run":
            return store.get_run(key)
        if kind == "dataset":
            name, _, version = key.partition("@")
            if name.isdigit() and not version:
                return store.lineage_dataset(int(name)) or store.get_dataset_by_id(int(name))
            d = store.get_dataset(name, int(version) if version else None)
            return store.lineage_dataset(d["id"])
        if kind == "chat":
            return store.get_chat(int(key))
        if kind == "pair":
            rows = store.lineage_pairs([int(key)])
        elif kind == "snippet":
            rows = store.lineage_snippets([int(key)])
        else:
            rows = [store.find_repo(key)]
    except ValueError:
        raise LineageError(f"{kind} ids are numbers, got {key!r}") from None
    if not rows:
        raise NotFoundError(f"no {kind} {key}")
    return rows[0]


def trace(store: Store, ref: str) -> Lineage:
    kind, key = parse_ref(ref)
    row = _resolve(store, kind, key)
    focus = {"eval": _eval_node, "judge": _judge_node, "model": _model_node, "run": _run_node,
             "dataset": _dataset_node, "pair": _pair_node, "snippet": _snippet_node,
             "repo": _repo_node, "chat": _chat_node}[kind](row)
    sources: list[Source] = []
    upstream = _upstream(store, kind, row, sources)
    return Lineage(focus, upstream, _downstream(store, kind, row), sources)


def _upstream(store: Store, kind: str, row: dict, sources: list[Source]) -> list[Level]:
    levels: list[Level] = []
    models: list[dict] = []
    if kind == "eval":
        m = store.lineage_model(row["model"]) if row.get("model") else None
        models = [m] if m else []
    elif kind == "judge":
        names = [*row.get("contestants", []), row.get("judge")]
        models = [m for m in (store.lineage_model(n) for n in names if n) if m]
    elif kind == "model":
        models = [row]
    if models:
        levels.append(_level("model", [_model_node(m) for m in models]))
    runs = [store.lineage_run(m["run_id"]) for m in models if m.get("run_id")] if kind != "run" else [row]
    runs = [r for r in runs if r]
    if kind != "run" and runs:
        levels.append(_level("run", [_run_node(r) for r in runs]))
    dataset_ids = sorted({r["dataset_id"] for r in runs if r.get("dataset_id")})
    if kind == "dataset":
        dataset_ids = [row["id"]]
    elif dataset_ids:   # datasets are never deleted; a missing one is skipped, as missing models and runs are
        datasets = [d for d in (store.lineage_dataset(i) for i in dataset_ids) if d]
        levels.append(_level("dataset", [_dataset_node(d) for d in datasets]))
    pair_ids = sorted({p for d in dataset_ids for p in store.lineage_dataset_pairs(d)})
    if kind == "pair":
        pair_ids = [row["id"]]
    pairs = store.lineage_pairs(pair_ids)
    if kind != "pair" and pairs:
        levels.append(_level("pair", [_pair_node(p) for p in pairs]))
    chats = store.chat_origins([p["id"] for p in pairs if p.get("origin") == "chat"])
    if chats:
        levels.append(_level("chat", [_chat_node(c) for c in chats]))
    snippet_ids = sorted({p["snippet_id"] for p in pairs if p.get("snippet_id")})
    if kind == "snippet":
        snippet_ids = [row["id"]]
    snippets = store.lineage_snippets(snippet_ids)
    if kind != "snippet" and snippets:
        levels.append(_level("snippet", [_snippet_node(s) for s in snippets]))
    commits: dict[int, set[str]] = {}
    for p in pairs:
        if p.get("commit_sha") and p.get("repo_id"):
            commits.setdefault(p["repo_id"], set()).add(p["commit_sha"])
    repo_ids = sorted({s["repo_id"] for s in snippets if s.get("repo_id")} | {p["repo_id"] for p in pairs if p.get("repo_id")})
    repos = store.lineage_repos(repo_ids) if kind != "repo" else [row]
    sources.extend(Source(f"repo:{r['id']}", r["full_name"], r.get("url") or "", r.get("commit_sha") or "",
                          r.get("license") or "unknown", sorted(commits.get(r["id"], ())))
                   for r in repos)
    if kind != "repo" and repo_ids:
        levels.append(_level("repo", [_repo_node(r, commits.get(r["id"])) for r in repos]))
    return levels


def sources_text(lineage: Lineage) -> list[str]:
    """'stands on' lines: every repo with its whole commit id and license, before anything else."""
    if not lineage.sources:
        return ["stands on: no repository recorded (imported or hand-written pairs, or a model from elsewhere)"]
    lines = [f"stands on {len(lineage.sources)} repositor{'y' if len(lineage.sources) == 1 else 'ies'}:"]
    for src in lineage.sources:
        at = f"commit {src.commit}" if src.commit else "a working tree (no commit recorded)"
        lines.append(f"  {src.repo} @ {at} · license {src.license} · {src.url} [{src.ref}]")
        if src.mined_commits:
            lines.append(f"    mined commits: {', '.join(src.mined_commits)}")
    return lines


def _downstream(store: Store, kind: str, row: dict) -> list[Level]:
    levels: list[Level] = []
    if kind in ("eval", "judge"):
        return levels
    pair_ids: list[int] = []
    if kind == "repo":
        snippet_ids = store.lineage_snippets_of_repo(row["id"])
        levels.append(Level("snippet", [_snippet_node(s) for s in store.lineage_snippets(snippet_ids[:SHOW])],
                            len(snippet_ids)))
        pair_ids = store.lineage_pairs_from(snippet_ids=snippet_ids, repo_id=row["id"])
    elif kind == "snippet":
        pair_ids = store.lineage_pairs_from(snippet_ids=[row["id"]])
    elif kind == "pair":
        pair_ids = [row["id"]]
    elif kind == "chat":
        pair_ids = store.chat_pair_ids(row["id"])
    if kind in ("repo", "snippet", "chat"):
        levels.append(Level("pair", [_pair_node(p) for p in store.lineage_pairs(pair_ids[:SHOW])], len(pair_ids)))
    datasets = store.lineage_datasets_with(pair_ids) if kind in ("repo", "snippet", "pair", "chat") else []
    if datasets:
        levels.append(_level("dataset", [_dataset_node(d) for d in datasets]))
    dataset_ids = [d["id"] for d in datasets] if kind != "dataset" else [row["id"]]
    runs = store.lineage_runs_on(dataset_ids) if kind != "run" else [row]
    if kind != "run" and runs:
        levels.append(_level("run", [_run_node(r) for r in runs]))
    models = store.lineage_models_of([r["id"] for r in runs]) if kind != "model" else [row]
    if kind != "model" and models:
        levels.append(_level("model", [_model_node(m) for m in models]))
    scores = store.lineage_scores_of([m["name"] for m in models])
    if scores:
        levels.append(_level("score", [_eval_node(s) if s["kind"] == "eval" else _judge_node(s) for s in scores]))
    return levels


def render(lineage: Lineage) -> str:
    """The trace as text: the focus, then each level with its references (CLI and docs)."""
    lines = [f"{lineage.focus.title}  [{lineage.focus.ref}]  {lineage.focus.detail}".rstrip(), ""]
    lines += sources_text(lineage)
    for title, levels in (("upstream (where it came from)", lineage.upstream),
                          ("downstream (what it fed)", lineage.downstream)):
        lines.append(f"\n{title}:" + ("" if levels else " nothing recorded"))
        for level in levels:
            lines.append(f"  {level.kind} ({level.total})")
            for node in level.nodes:
                lines.append(f"    {node.ref:<22} {node.title}" + (f" — {node.detail}" if node.detail else ""))
            if level.more:
                lines.append(f"    … and {level.more} more")
    return "\n".join(lines)


def starting_points(store: Store, limit: int = 20) -> list[str]:
    """Recent references worth tracing, newest first: scores, runs, datasets, repos."""
    refs = [f"eval:{e['id']}" for e in store.list_evals(limit=limit)]
    refs += [f"judge:{j['id']}" for j in store.list_judge_runs(limit=limit)]
    refs += [f"run:{r['id']}" for r in store.list_runs(limit=limit)]
    refs += [f"dataset:{d['name']}@{d['version']}" for d in store.list_datasets()[:limit]]
    refs += [f"repo:{r['id']}" for r in store.list_repos(limit=limit)]
    return refs


def level_rows(levels: list[Level]) -> list[list[str]]:
    """A table of a trace's levels: one row per node, and a row saying how many more there are."""
    rows = []
    for level in levels:
        for node in level.nodes:
            rows.append([level.kind, node.ref, node.title, node.detail])
        if level.more:
            rows.append([level.kind, "", f"… and {level.more} more", ""])
    return rows
