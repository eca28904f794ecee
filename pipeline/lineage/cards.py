"""Hub cards from lineage: a dataset card for a frozen dataset, a model card for a checkpoint.

    card = dataset_card(store, "gdscript-sft@2")      # huggingface_hub.DatasetCard
    card = model_card(store, "gd-lora-step120")       # huggingface_hub.ModelCard
    python -m pipeline card dataset gdscript-sft@2   # the same text the UI previews

Built with the hub client's own classes (DatasetCardData / ModelCardData / EvalResult), so the
YAML header is what the hub reads: license, base_model, datasets, eval results as model-index.
`validate_card` parses the rendered text back with the same classes and checks that what the hub
needs survived the round trip (the hub's online validator is not called: the studio works offline).
Every figure comes from the store: the provenance frozen with the dataset (licenses, repos and
commits, scrub counts), the run that made a checkpoint, and the evals that scored it.
"""
from __future__ import annotations

import re

from pipeline.errors import StudioError

STUDIO_TAG = "codetune-studio"


class CardError(StudioError):
    """A card cannot be made or does not validate; the message says which field."""


def _hub_license(licenses: dict) -> str | list[str]:
    """SPDX ids as the hub writes them (lowercase); several become a list, none 'unknown'."""
    ids = sorted({part.strip().lower() for lic in licenses for part in re.split(r" OR | AND ", lic)
                  if lic and not lic.startswith("none (") and lic != "unknown"})
    if not ids:
        return "unknown"
    return ids[0] if len(ids) == 1 else ids


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def _counts(d: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def dataset_card(store, ref):
    """The dataset card of a frozen dataset (a row, id, 'name' or 'name@version')."""
    from huggingface_hub import DatasetCard, DatasetCardData

    from pipeline.pairs.export import resolve

    dataset = resolve(store, ref)
    prov = store.dataset_provenance(dataset["id"])
    size = dataset.get("size") or len(dataset.get("pair_ids") or [])
    languages = sorted(prov.get("languages", {}))
    data = DatasetCardData(
        license=_hub_license(prov.get("licenses", {})), language=["en", "code"],
        task_categories=["text-generation"], size_categories=_size_category(size),
        pretty_name=f"{dataset['name']} v{dataset['version']}",
        tags=[STUDIO_TAG, "code", *[lang for lang in languages if lang != "unknown"]],
        source_datasets=["original"])
    scrub = prov.get("scrub", {})
    flt = dataset.get("filter") or {}
    repos = prov.get("repos", [])
    repo_lines = "\n".join(
        f"| {r['repo']} | {r['license']} | {', '.join(c[:12] for c in r['commits'][:3]) or '-'} | {r['pairs']} |"
        for r in repos[:100]) or "| (no repository: imported or chat pairs only) | | | |"
    split = flt.get("split") or dataset.get("split")
    cleaned = prov.get("cleaning")
    cleaning = f" (left out: {_counts(cleaned)})" if cleaned else ""
    body = f"""
# {dataset['name']} (version {dataset['version']})

Instruction pairs for code, frozen by CodeTune Studio on {dataset.get('created_at', '')[:10]}:
{size} examples rendered with the `{dataset['template']}` prompt template.

## Sources

Licenses of the sources (pairs per license): {_counts(prov.get('licenses', {}))}.

| repository | license | commits | pairs |
| --- | --- | --- | --- |
{repo_lines}
{f"{chr(10)}…and {len(repos) - 100} more repositories.{chr(10)}" if len(repos) > 100 else ""}
Languages: {_counts(prov.get('languages', {}))}. Origins: {_counts(prov.get('origins', {}))}.

## How it was made

- Selection filter: `{flt}`; split: {split or 'train only (no test split frozen with this version)'}.
- Cleaning: pairs flagged as duplicates, contaminated by eval suites or failing quality filters
  were {'left out' if flt.get('flag') == 'clean' else 'kept (the filter asked for them)'}{cleaning}.
- Labellers: {_counts(prov.get('labellers', {}))}; prompt versions: {_counts(prov.get('prompt_versions', {}))}.
- Secrets and personal data: {scrub.get('pairs_with_replacements', 0)} examples had values replaced by
  typed placeholders ({_counts(scrub.get('replaced', {}))}). The originals were never stored.
  Placeholders look like `<API_KEY>`, `<EMAIL>`, `<PASSWORD>`, `<IP_ADDRESS>`, `<PRIVATE_KEY>`.

## Limits

Code written by people on public or local repositories, labelled by a model: instructions can be
wrong. Respect each source's license when you use it.
"""
    card = DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}")  # no Jinja: the body holds user text
    validate_card(card, "dataset")
    return card


def _eval_results(scores: list[dict]) -> list:
    from huggingface_hub import EvalResult

    results = []
    for e in scores:
        if e.get("kind") != "eval" or e.get("status") != "done":
            continue
        for metric, value in _flatten(e.get("metrics") or {}):
            results.append(EvalResult(task_type="text-generation", dataset_type=e["suite"], dataset_name=e["suite"],
                                      metric_type=metric, metric_value=round(float(value), 6)))
    return results[:40]


def _flatten(metrics: dict, prefix: str = ""):
    """Numeric leaves of an eval's metrics JSON: {'pass_at_k': {'1': .3}} -> ('pass@1', .3)."""
    for key, value in metrics.items():
        name = f"pass@{key}" if prefix in ("pass_at_k", "pass@k") else (f"{prefix}.{key}" if prefix else str(key))
        if isinstance(value, dict):
            yield from _flatten(value, str(key))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, value


def model_card(store, model_name: str):
    """The model card of a registered checkpoint: base model, datasets, training, evals."""
    from huggingface_hub import ModelCard, ModelCardData

    model = store.lineage_model(model_name)
    if model is None:
        raise CardError(f"no model {model_name!r} in the store")
    meta = model.get("meta") or {}
    run = store.lineage_run(model["run_id"]) if model.get("run_id") else None
    base = (run or {}).get("base_model") or model.get("base") or meta.get("base_model")
    dataset: dict | None = None
    prov: dict = {}
    if run and run.get("dataset_id"):
        dataset = store.lineage_dataset(run["dataset_id"])
        prov = store.dataset_provenance(run["dataset_id"]) if dataset else {}
    scores = store.lineage_scores_of([model_name])
    results = _eval_results(scores)
    dataset_ref = f"{dataset['name']}@{dataset['version']}" if dataset else None
    is_adapter = (run or {}).get("method") in ("lora", "qlora") or bool(model.get("base"))
    data = ModelCardData(
        model_name=model_name, base_model=base, datasets=[dataset_ref] if dataset_ref else None,
        # ModelCardData types license as str, but stores and writes a list as given (DatasetCardData
        # types it str | list[str]); a model trained on sources under several licenses lists them all
        license=_hub_license(prov.get("licenses", {})),  # type: ignore[arg-type]
        library_name="peft" if is_adapter else "transformers",
        pipeline_tag="text-generation", tags=[STUDIO_TAG, "code", *sorted(k for k in prov.get("languages", {})
                                                                           if k != "unknown")],
        eval_results=results or None)
    config = (run or {}).get("config") or {}
    settings = "\n".join(f"- {k}: `{v}`" for k, v in sorted(config.items())
                         if k in ("method", "epochs", "learning_rate", "lr", "lora_r", "lora_alpha", "batch_size",
                                  "max_seq_len", "packing", "template", "seed", "max_steps", "gradient_accumulation"))
    eval_lines = "\n".join(f"| {r.dataset_name} | {r.metric_type} | {r.metric_value} |" for r in results)
    body = f"""
# {model_name}

Fine-tuned from `{base or 'unknown base model'}` by CodeTune Studio
({'a LoRA adapter' if is_adapter else 'full weights'}).

## Training data

{f"Dataset `{dataset_ref}`: {dataset.get('size')} examples, template `{dataset.get('template')}`; sources under {_counts(prov.get('licenses', {}))}; languages {_counts(prov.get('languages', {}))}; {prov.get('scrub', {}).get('pairs_with_replacements', 0)} examples had secrets or personal data replaced by placeholders." if dataset else "No training run is recorded for this model in the studio."}

## Training settings

Run `{(run or {}).get('name', '-')}` ({(run or {}).get('method') or config.get('method', '-')}), {(run or {}).get('step') or '-'} steps.
{settings or '- (no settings recorded)'}

## Evaluation

{("| suite | metric | value |" + chr(10) + "| --- | --- | --- |" + chr(10) + eval_lines) if results else "No finished evaluation is recorded for this model."}

## Intended use and limits

For code completion and code instructions in the languages above, as an assistant whose output a
person reviews and tests. It learned from a small dataset: it can write code that does not run,
repeat patterns of its sources, and it was not trained for safety. Not for use without review.
"""
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")
    validate_card(card, "model")
    # ModelCard builds its data as ModelCardData, though the hub client types it as CardData
    if not isinstance(card.data, ModelCardData) or len(card.data.eval_results or []) != len(results):
        raise CardError("the model card's eval results did not survive the model-index round trip")
    return card


def validate_card(card, repo_type: str) -> None:
    """Parse the rendered card back with the hub client's classes; raise CardError when what the hub
    reads (license, base_model, datasets, model-index) did not survive."""
    from huggingface_hub import DatasetCard, ModelCard

    cls = ModelCard if repo_type == "model" else DatasetCard
    try:
        parsed = cls(str(card))
    except Exception as exc:  # the hub client's own YAML/metadata errors
        raise CardError(f"the {repo_type} card does not parse: {exc}") from None
    if not parsed.data.get("license"):
        raise CardError(f"the {repo_type} card has no license")
    if repo_type == "model" and card.data.get("base_model") and parsed.data.get("base_model") != card.data.get("base_model"):
        raise CardError("the model card's base model did not survive the round trip")


def card_text(store, kind: str, ref: str) -> str:
    """The markdown of a card, for the CLI and the UI preview."""
    if kind == "dataset":
        return str(dataset_card(store, ref))
    if kind == "model":
        return str(model_card(store, ref))
    raise CardError(f"a card is for a dataset or a model, not {kind!r}")
