"""Frozen datasets and their exports.

    ds = freeze_dataset(store, "gdscript-sft", {"status": "approved", "language": "gdscript"}, "alpaca")
    export_jsonl(store, "gdscript-sft", "out.jsonl", form="messages")
    save_to_disk(store, "gdscript-sft@1", "out_dir")          # datasets.load_from_disk() reads it
    push_to_hub(store, "gdscript-sft", "me/gdscript-sft")     # token from $HF_TOKEN

Freezing copies the pairs' text (in id order) with the filter that chose them and the prompt
template; export and training read that snapshot (`Store.dataset_examples`), never the live
pairs, so a version never changes. An export still says when a frozen pair has been edited
since (the live text differs), as a hint to freeze a new version. Flagged pairs (duplicates, contaminated, filtered)
are left out unless asked for, and so are rejected and failed pairs unless the filter names
statuses.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from pipeline.errors import StudioError
from pipeline.models.templates import check_template, render, to_messages
from pipeline.pairs.conversations import conversation_record
from pipeline.pairs.split import SplitSettings, carve_split
from pipeline.paths import check_output_path, named_path
from pipeline.store import Store
from pipeline.store.pairs import PairFilter, as_filter
from pipeline.train.conversation_rows import render_conversation

FORMS = ("alpaca", "messages", "sharegpt")  # conversations: see pipeline.pairs.conversations
TARGETS = ("jsonl", "disk", "hub")
META_FILE = "codetune_dataset.json"


class ExportError(StudioError):
    """A dataset cannot be frozen, written or pushed; the message says why."""


def _output_path(dataset: dict, path, suffix: str) -> Path:
    """The user's path (checked), or $STUDIO_HOME/datasets/<name>-v<version><suffix>."""
    if path:
        return check_output_path(path, "export")
    return named_path("datasets", f"{dataset['name']}-v{dataset['version']}", suffix)


def freeze_dataset(store: Store, name: str, filter: PairFilter | dict | None = None,
                   template: str = "alpaca", exclude_flagged: bool = True,
                   split: SplitSettings | dict | None = None) -> dict:
    """Freeze the matching pairs; a held-out test split is carved (see pipeline.pairs.split)
    unless `split` says test_fraction=0."""
    try:
        settings = split if isinstance(split, SplitSettings) else SplitSettings(**(split or {}))
    except (TypeError, ValueError) as exc:
        raise ExportError(f"test split: {exc}") from None
    flt = replace(as_filter(filter))  # a copy: the caller's filter stays as it was
    if not flt.status:  # rejected and failed pairs are never training data unless asked for
        flt.status = ["approved", "draft"]
    if exclude_flagged and flt.flag is None:
        flt.flag = "clean"
    try:
        check_template(template)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    pair_ids = store.pair_ids(flt)
    sources = {p["id"]: p for p in store.pairs_by_ids(pair_ids, columns="id, repo_id, path")}

    def carve(rows):
        try:
            return carve_split(rows, sources, settings)
        except ValueError as exc:
            raise ExportError(str(exc)) from None

    dataset = store.create_dataset(name, pair_ids, flt.to_dict(), template, carve=carve)
    # licenses, repos@commits, scrub figures… frozen with the version (the dataset card reads them)
    provenance = store.compute_provenance(dataset["pair_ids"])
    if flt.flag == "clean":  # what cleaning left out of this selection, for the card
        unflagged = replace(flt, flag=None)
        provenance["cleaning"] = {kind: store.flag_count(kind, unflagged)
                                  for kind in ("duplicate", "contaminated", "filtered")}
    store.set_dataset_provenance(dataset["id"], provenance)
    return dataset


def gated_examples(store: Store, dataset: dict, gate: dict | None = None, **kw) -> Iterator[dict]:
    """The frozen examples through the scrub pass, the last gate before anything leaves the
    studio: secrets replaced, an example that cannot be made safe left out; `gate` counts both."""
    from pipeline.curate.scrub import scrub_fields, scrub_messages

    gate = gate if gate is not None else {}
    gate.setdefault("scrubbed", 0)
    gate.setdefault("held_back", 0)
    for pair in store.dataset_examples(dataset["id"], **kw):
        clean, findings, held = scrub_fields(pair, ("instruction", "input", "output"))
        if pair.get("messages") and not held:   # a conversation: every turn goes through the pass
            clean["messages"], more, held = scrub_messages(pair["messages"])
            findings += more
        if held:
            gate["held_back"] += 1
            continue
        gate["scrubbed"] += bool(findings)
        yield clean


def resolve(store: Store, ref: str | int | dict) -> dict:
    """A dataset from a row, an id, 'name' (latest version) or 'name@version'."""
    if isinstance(ref, dict):
        return ref
    if isinstance(ref, int) or str(ref).isdigit():
        return store.get_dataset_by_id(int(ref))
    return store.get_dataset(str(ref))


def records(store: Store, dataset: dict, form: str = "alpaca", gate: dict | None = None) -> Iterator[dict]:
    if form not in FORMS:
        raise ExportError(f"unknown export form {form!r}; use one of {', '.join(FORMS)}")
    test_ids = _test_pair_ids(store, dataset)
    for pair in gated_examples(store, dataset, gate):
        if pair.get("messages"):  # a conversation: every turn, in the form asked for
            record = conversation_record(pair["messages"], form)
        elif form == "alpaca":
            record = {"instruction": pair["instruction"], "input": pair["input"], "output": pair["output"]}
        else:
            record = conversation_record(to_messages(pair["instruction"], pair["input"], pair["output"]), form)
        if test_ids:   # a dataset with a held-out split says which side each record is on
            record["split"] = "test" if pair["pair_id"] in test_ids else "train"
        yield record


def _test_pair_ids(store: Store, dataset: dict) -> set[int]:
    return {r["pair_id"] for r in store.test_examples(dataset["id"])}


def freshness(store: Store, dataset: dict) -> dict:
    """Whether the live pairs still read as frozen (a hint only: exports use the frozen text)."""
    present = sum(1 for _ in store.pairs_by_ids(dataset["pair_ids"], "id"))
    return {"missing_pairs": len(dataset["pair_ids"]) - present,
            "changed_since_freeze": store.pairs_content_hash(dataset["pair_ids"]) != dataset.get("content_hash")}


def _label(dataset: dict) -> str:
    return f"{dataset['name']}@{dataset['version']}"


def export_jsonl(store: Store, ref, path: str | Path | None = None, form: str = "alpaca") -> dict:
    dataset = resolve(store, ref)
    if form not in FORMS:
        raise ExportError(f"unknown export form {form!r}; use one of {', '.join(FORMS)}")
    path = _output_path(dataset, path, f"-{form}.jsonl")
    tmp = path.with_name(path.name + ".part")
    rows, gate = 0, dict[str, int]()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            for record in records(store, dataset, form, gate):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                rows += 1
        tmp.replace(path)  # a reader never sees half a file
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return {"dataset": _label(dataset), "path": str(path), "rows": rows, "form": form, "gate": gate,
            **freshness(store, dataset)}


def build_hf_dataset(store: Store, dataset: dict, gate: dict | None = None):
    """A `datasets.Dataset` with the raw fields, chat messages, the text rendered with the
    dataset's template (what SFT trains on), and each example's source repo@commit and license
    (as The Stack carries them, so users can filter by license)."""
    import datasets

    columns: dict[str, list] = {k: [] for k in ("pair_id", "instruction", "input", "output", "language",
                                                "messages", "text", "source", "license")}
    sources = store.pair_sources(dataset["pair_ids"])
    test_ids = _test_pair_ids(store, dataset)
    if test_ids:   # the held-out split travels with the data, so nobody trains on it by accident
        columns["split"] = []
    for pair in gated_examples(store, dataset, gate, with_language=True):
        if test_ids:
            columns["split"].append("test" if pair["pair_id"] in test_ids else "train")
        source = sources.get(pair["pair_id"], {})
        columns["source"].append(source.get("source") or "")
        columns["license"].append(source.get("license") or "")
        columns["pair_id"].append(pair["pair_id"])
        for key in ("instruction", "input", "output"):
            columns[key].append(pair[key])
        columns["language"].append(pair["language"])
        if pair.get("messages"):
            columns["messages"].append(pair["messages"])
            columns["text"].append(render_conversation(dataset["template"], pair["messages"]))
            continue
        columns["messages"].append(to_messages(pair["instruction"], pair["input"], pair["output"]))
        columns["text"].append(render(dataset["template"], pair["instruction"], pair["input"], pair["output"]))
    return datasets.Dataset.from_dict(columns)


def meta(dataset: dict) -> dict:
    return {k: dataset.get(k) for k in ("name", "version", "template", "filter", "content_hash", "size", "created_at")}


def save_to_disk(store: Store, ref, path: str | Path | None = None) -> dict:
    dataset = resolve(store, ref)
    path = _output_path(dataset, path, "")
    from pipeline.lineage.cards import dataset_card

    gate: dict = {}
    hf = build_hf_dataset(store, dataset, gate)
    try:
        hf.save_to_disk(str(path))
        (path / META_FILE).write_text(json.dumps(meta(dataset), indent=2))
        dataset_card(store, dataset).save(path / "README.md")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return {"dataset": _label(dataset), "path": str(path), "rows": len(hf), "gate": gate,
            **freshness(store, dataset)}


def push_to_hub(store: Store, ref, repo_id: str, private: bool = True, token_env: str = "HF_TOKEN") -> dict:
    """Upload as a Parquet dataset repo. The token is read from the env var named `token_env`
    and never stored or echoed."""
    from pipeline import access

    dataset = resolve(store, ref)
    if not (repo_id or "").strip() or repo_id.count("/") > 1:
        raise ExportError(f"hub repo id {repo_id!r} should look like 'user/name'")
    access.require(access.Cap.PUSH_HUB, access.Target(namespace=repo_id.strip().partition("/")[0],
                                                      secret=token_env, what=f"push a dataset to {repo_id}"))
    access.reached(access.Cap.PUSH_HUB)
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise ExportError(f"set {token_env} to a Hugging Face token with write access to push {_label(dataset)}")
    from pipeline.lineage.cards import dataset_card

    card = dataset_card(store, dataset)  # made (and validated) before anything is uploaded
    gate: dict = {}
    hf = build_hf_dataset(store, dataset, gate)
    try:
        from huggingface_hub import HfApi

        # the card first: datasets' push then keeps its text and adds the splits/features metadata
        HfApi(token=token).create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        card.push_to_hub(repo_id, token=token, repo_type="dataset", commit_message=f"dataset card of {_label(dataset)}")
        commit = hf.push_to_hub(repo_id, private=private, token=token,
                                commit_message=f"{_label(dataset)} ({dataset['template']} template) from CodeTune Studio")
    except Exception as exc:  # network, auth and hub errors all end here with one clear message
        detail = str(exc).replace(token, "***").strip().splitlines()
        raise ExportError(f"could not push {_label(dataset)} to the hub repo {repo_id}: {type(exc).__name__}: "
                          f"{detail[0] if detail else ''} — check the network connection and that "
                          f"{token_env} can write there") from None
    return {"dataset": _label(dataset), "repo_id": repo_id, "rows": len(hf), "card": "README.md", "gate": gate,
            "url": getattr(commit, "commit_url", None), **freshness(store, dataset)}


def export_to(store: Store, target: str, ref, *, path=None, form: str = "alpaca", repo_id: str | None = None,
              private: bool = True) -> dict:
    """One export, whichever the target: what the CLI runs in process and the job runs in a child."""
    if target == "jsonl":
        return export_jsonl(store, ref, path, form)
    if target == "disk":
        return save_to_disk(store, ref, path)
    if target == "hub":
        if not repo_id:
            raise ExportError("a hub export needs the repo id to push to (user/name)")
        return push_to_hub(store, ref, repo_id, private)
    raise ExportError(f"unknown export target {target!r}; use one of {', '.join(TARGETS)}")


def export_job(ctx) -> dict:
    """Job kind "export_dataset": params {dataset, target: jsonl|disk|hub, path?, form?, repo_id?, private?}."""
    p = ctx.params
    target = p.get("target", "jsonl")
    ctx.progress(0, 1, f"exporting {p.get('dataset')} to {target}")
    result = export_to(ctx.store, target, p["dataset"], path=p.get("path"), form=p.get("form", "alpaca"),
                       repo_id=p.get("repo_id"), private=bool(p.get("private", True)))
    ctx.log(json.dumps(result))
    ctx.progress(1, 1, "done", force=True)
    return result
