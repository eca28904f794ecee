"""Pairs: review, import, freeze and export instruction pairs.

Review itself (FTS search, edits with history, optimistic concurrency, bulk actions, frozen
dataset versions) lives in the store's pairs mixins; this stage adds streamed import from
JSONL/JSON/CSV/TSV/Parquet (`readers`, `importer`) and export of a frozen dataset to JSONL,
`datasets` on disk or the hub (`export`). Freezing carves a held-out test split grouped by repo
or file, with near-duplicates of test items dropped from train (`split`). A pair may be a
conversation (`conversations`: OpenAI `messages` / ShareGPT `conversations` in and out, the turns
cleaned and trained on).

    python -m pipeline pairs list|show|edit|approve|reject|bulk|stats|clean|import|freeze|datasets|export
"""
JOB_KINDS = {
    "import_pairs": "pipeline.pairs.importer:import_job",
    "export_dataset": "pipeline.pairs.export:export_job",
}
