"""The Pairs tab's Clean, Import and Datasets panels and its stats figure (see pairs_tab).

Clean submits a `clean` job (pipeline.clean.job) and unflags; Import previews a file and imports
it (pipeline.pairs.importer, as a job for a large file); Datasets freezes the Review filter as a
dataset version and exports it (pipeline.pairs.export). Each panel's handlers are top-level
functions, then its layout and wiring.
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict
from typing import Any

import gradio as gr

from pipeline import jobs
from pipeline.clean.job import DECONTAM_MODES, CleanConfig, unflag
from pipeline.config import config_from_dict
from pipeline.models.templates import template_names
from pipeline.pairs import export
from pipeline.pairs.importer import ImportConfig, import_file, preview_file, should_run_as_job
from pipeline.pairs.split import GROUPINGS, SplitSettings, describe_split
from pipeline.store import open_store
from studio.common import StudioContext, ui_errors
from studio.widgets import job_status_html, on_start

POLL_S = 1.0
NONE = "(none)"
CLEAN_STEPS = ["exact dedup", "near dedup", "decontaminate", "quality filters"]
MAP_TARGETS = ("instruction", "input", "output", "messages", "language")   # the import's column pickers


def job_html(job: dict | None, elem_id: str) -> str:
    """A panel's job row, or a note that none was started here."""
    return job_status_html(job, elem_id, empty="No job started from this page yet.")


def stats_figure(s: dict) -> Any:
    """Bars of pairs by status and language, histograms of instruction and output lengths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    for ax, key, title in ((axes[0][0], "by_status", "status"), (axes[0][1], "by_language", "language")):
        items = list(s[key].items())[:15]
        ax.bar([str(k) for k, _ in items], [v for _, v in items], color="#4c72b0")
        ax.set_title(f"pairs by {title}")
        ax.tick_params(axis="x", labelrotation=30)
    for ax, key, title in ((axes[1][0], "instruction_lengths", "instruction"), (axes[1][1], "output_lengths", "output")):
        values = s[key]
        if values:
            ax.hist(values, bins=min(50, max(5, len(set(values)))), color="#55a868")
        ax.set_title(f"{title} length (characters)")
        ax.set_xlabel("characters")
    fig.tight_layout()
    plt.close(fig)
    return fig


def _poll(job_id: Any, elem_id: str) -> tuple[str, Any, bool]:
    """(job html, result, keep polling?) for a job id held in a gr.State."""
    if not job_id:
        return job_html(None, elem_id), None, False
    job = open_store().get_job(int(job_id))
    finished = job["status"] not in ("queued", "running")
    return job_html(job, elem_id), job.get("result") if finished else None, not finished


# -- Clean ----------------------------------------------------------------------------------------
def flag_counts() -> str:
    """How many pairs each flag marks now, and how many are clean."""
    s = open_store().pair_stats()["flags"]
    return (f"Flagged now: **{s['duplicate']}** duplicates · **{s['contaminated']}** contaminated · "
            f"**{s['filtered']}** filtered · {s['clean']} clean")


@ui_errors
def run_clean(steps: list[str], statuses: list[str] | None, threshold: float, dedup_on: str, mode: str,
              suites: list[str] | None, suite_path: str | None, seed: Any) -> tuple[int, str, Any]:
    """Submit a cleaning job with the panel's settings: its id, its row, the poll timer on."""
    names = list(suites or []) + ([suite_path] if suite_path else [])
    params = {"statuses": statuses or [], "exact_dedup": "exact dedup" in steps,
              "near_dedup": "near dedup" in steps, "decontam": "decontaminate" in steps,
              "filters": "quality filters" in steps, "near_threshold": threshold, "dedup_on": dedup_on,
              "decontam_mode": mode, "suites": names, "seed": int(seed or 0)}
    cfg = config_from_dict(CleanConfig, params)  # bad settings fail here, not in the job
    if not statuses:
        raise gr.Error("Pick at least one status to clean")
    store = open_store()
    jid = jobs.submit(store, "clean", asdict(cfg), title="clean pairs")
    return jid, job_html(store.get_job(jid), "clean-job"), gr.Timer(active=True)


@ui_errors
def poll_clean(jid: Any) -> tuple[str, Any, str, Any]:
    """The cleaning job's row, its result once it has ended, the flag counts, the timer."""
    box, res, going = _poll(jid, "clean-job")
    if res is not None:
        res = {k: v for k, v in res.items() if k != "config"}
    return box, res if res is not None else gr.update(), flag_counts(), gr.Timer(active=going)


@ui_errors
def unflag_pairs(kind: str) -> str:
    """Clear one flag (or "all") from every pair; the flag counts after."""
    n = unflag(open_store(), kind)
    gr.Info(f"{n} pairs unflagged")
    return flag_counts()


@ui_errors
def clean_suite_choices() -> tuple[Any, str]:
    """The eval suites decontamination can check against (HumanEval and the stored ones), and the
    flag counts."""
    return gr.update(choices=["humaneval", *open_store().eval_suite_names()]), flag_counts()


def build_clean_panel(ctx: StudioContext) -> None:
    defaults = CleanConfig()
    gr.Markdown("Flag exact and near duplicates (MinHash LSH), pairs that contain eval items (GPT-4 "
                "report's 50-character substring method, or word n-grams), and pairs failing length/quality "
                "filters. Nothing is deleted; unflag restores.")
    with gr.Row():
        steps = gr.CheckboxGroup(CLEAN_STEPS, value=list(CLEAN_STEPS), label="Steps")
        statuses = gr.CheckboxGroup(["draft", "approved", "rejected", "failed"], value=defaults.statuses,
                                    label="Pairs with status")
    with gr.Row():
        threshold = gr.Slider(0.5, 1.0, value=defaults.near_threshold, step=0.01, label="Near-duplicate Jaccard threshold")
        dedup_on = gr.Radio(["output", "pair"], value=defaults.dedup_on, label="Duplicates judged on")
        mode = gr.Radio(list(DECONTAM_MODES), value=defaults.decontam_mode, label="Decontamination method")
    with gr.Row():
        suites = gr.CheckboxGroup(["humaneval"], value=["humaneval"], label="Eval suites", elem_id="clean-suites")
        suite_file = gr.File(label="…or a JSONL suite file", file_types=[".jsonl"], type="filepath")
        seed = gr.Number(value=defaults.seed, precision=0, label="Seed")
    with gr.Row():
        run_btn = gr.Button("Run cleaning job", variant="primary", scale=0, elem_id="clean-run")
        unflag_kind = gr.Dropdown(["duplicate", "contaminated", "filtered", "all"], value="all", label="Unflag", scale=0)
        unflag_btn = gr.Button("Unflag", scale=0)
    job_box = gr.HTML(job_html(None, "clean-job"))
    counts = gr.Markdown(elem_id="clean-counts")
    result = gr.JSON(label="Last run")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)

    on_start(run_btn, run_clean, [steps, statuses, threshold, dedup_on, mode, suites, suite_file, seed],
             [job_id, job_box, timer])
    timer.tick(poll_clean, job_id, [job_box, result, counts, timer], show_progress="hidden")
    unflag_btn.click(unflag_pairs, unflag_kind, counts, api_name="do_unflag")
    ctx.on_load(clean_suite_choices, None, [suites, counts])


# -- Import ---------------------------------------------------------------------------------------
def import_report_text(r: dict) -> str:
    """An import's counts and its bad records (the first 50, with line numbers)."""
    lines = [f"**{r['imported']}** imported · {r['already_present']} already present · "
             f"**{r['malformed']}** bad records ({r['format']}, {r['shape']} shape)"]
    if r.get("replaced_bytes_records"):
        lines.append(f"{r['replaced_bytes_records']} records had bytes replaced")
    lines += [f"- line {e['line']}: {html.escape(e['error'])}" for e in r["errors"][:50]]
    return "\n".join(lines)


@ui_errors
def preview_import(path: str | None, encoding: str, replace: bool) -> list:
    """The uploaded file's format, columns and problems, its first records, and each column
    picker's choices with the suggested mapping picked."""
    if not path:
        return ["Upload a file to preview it.", None] + [gr.update(choices=[NONE], value=NONE)] * len(MAP_TARGETS)
    p = preview_file(path, encoding=encoding, replace_bad_bytes=replace)
    note = f"{p['format']} · {len(p['columns'])} columns: {', '.join(p['columns']) or 'none'} · suggested shape {p['shape']}"
    if p["problems"]:
        note += "\n\n" + "\n".join(f"- {html.escape(x)}" for x in p["problems"][:10])
    rows = [{k: json.dumps(v, ensure_ascii=False)[:200] if not isinstance(v, str) else v[:200]
             for k, v in r.items()} for r in p["rows"][:10]]
    import pandas as pd

    choices = [NONE, *p["columns"]]
    return [note, pd.DataFrame(rows)] + [gr.update(choices=choices, value=p["mapping"].get(t, NONE))
                                         for t in MAP_TARGETS]


@ui_errors
def run_import(path: str | None, encoding: str, replace: bool, shape: str, language: str | None,
               *mapped: str) -> tuple[int | None, str, str, Any]:
    """Import the uploaded file with the column mapping (`mapped`, in MAP_TARGETS order): at once
    for a small file (its report), as a job for a large one (its id and row, the timer on)."""
    if not path:
        raise gr.Error("Upload a file first")
    params = {"path": path, "encoding": encoding, "replace_bad_bytes": replace, "shape": shape,
              "default_language": language or None,
              **{t: (v if v != NONE else None) for t, v in zip(MAP_TARGETS, mapped)}}
    cfg = config_from_dict(ImportConfig, params)
    store = open_store()
    if should_run_as_job(path):
        jid = jobs.submit(store, "import_pairs", asdict(cfg), title="import pairs")
        return jid, job_html(store.get_job(jid), "import-job"), "", gr.Timer(active=True)
    report = import_file(store, cfg)
    return None, job_html(None, "import-job"), import_report_text(report), gr.Timer(active=False)


@ui_errors
def poll_import(jid: Any) -> tuple[str, Any, Any]:
    """The import job's row, its report once it has ended, the timer."""
    box, res, going = _poll(jid, "import-job")
    return box, import_report_text(res) if res else gr.update(), gr.Timer(active=going)


def build_import_panel(ctx: StudioContext) -> None:
    gr.Markdown("Import pairs from JSONL, JSON, CSV/TSV or Parquet, in alpaca form (instruction / input / "
                "output columns) or messages form (OpenAI `messages` or ShareGPT `conversations`; a conversation "
                "of several turns or with a system prompt stays whole). Upload, check the preview and the column "
                "mapping, import. "
                "Bad records are listed with their line numbers; the good ones are imported.")
    with gr.Row():
        upload = gr.File(label="File", file_types=[".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet"],
                         type="filepath", elem_id="import-file")
        with gr.Column():
            encoding = gr.Dropdown(["utf-8", "latin-1", "cp1252"], value="utf-8", allow_custom_value=True,
                                   label="Encoding")
            replace_bad = gr.Checkbox(label="Replace bytes invalid in the encoding (instead of skipping the record)")
            shape = gr.Radio(["auto", "alpaca", "messages"], value="auto", label="Shape")
    preview_note = gr.Markdown(elem_id="import-preview-note")
    preview_table = gr.Dataframe(interactive=False, wrap=True, max_height=260, label="First records")
    with gr.Row():
        maps = [gr.Dropdown([NONE], value=NONE, label=f"{t} column", elem_id=f"import-map-{t}")
                for t in MAP_TARGETS]
        default_language = gr.Textbox(label="Language for all rows", placeholder="e.g. gdscript")
    import_btn = gr.Button("Import", variant="primary", scale=0, elem_id="import-run")
    job_box = gr.HTML(job_html(None, "import-job"))
    report_md = gr.Markdown(elem_id="import-report")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)

    preview_out = [preview_note, preview_table, *maps]
    upload.change(preview_import, [upload, encoding, replace_bad], preview_out)
    encoding.change(preview_import, [upload, encoding, replace_bad], preview_out)
    on_start(import_btn, run_import, [upload, encoding, replace_bad, shape, default_language, *maps],
             [job_id, job_box, report_md, timer])
    timer.tick(poll_import, job_id, [job_box, report_md, timer], show_progress="hidden")


# -- Datasets -------------------------------------------------------------------------------------
SPLIT_HELP = {f: SplitSettings.__dataclass_fields__[f].metadata["help"] for f in ("test_fraction", "group_by")}


def datasets_now() -> tuple[list[list], list[str]]:
    """The datasets table's rows and the export picker's choices (name@version)."""
    rows = open_store().list_datasets()
    return ([[d["id"], d["name"], d["version"], d["size"], d.get("test_size") or 0, d["template"], d["created_at"],
              json.dumps(d["filter"])] for d in rows], [f"{d['name']}@{d['version']}" for d in rows])


@ui_errors
def list_datasets() -> tuple[list[list], Any]:
    """The datasets table and the export picker's choices."""
    rows, names = datasets_now()
    return rows, gr.update(choices=names)


@ui_errors
def freeze(flt: dict, name: str, template: str, flagged: bool, fraction: Any,
           grouping: str | None) -> tuple[list[list], Any, str]:
    """Freeze the pairs matching `flt` as the next version of dataset `name`: the table, the new
    version picked for export, and its train/test split."""
    ds = export.freeze_dataset(open_store(), name, flt, template, exclude_flagged=not flagged,
                               split={"test_fraction": float(fraction or 0), "group_by": grouping or "auto"})
    gr.Info(f"Froze {ds['name']}@{ds['version']} with {ds['size']} pairs")
    rows, names = datasets_now()
    return (rows, gr.update(choices=names, value=f"{ds['name']}@{ds['version']}"),
            f"**{ds['name']}@{ds['version']}** · {describe_split(ds['split_info'])}")


@ui_errors
def export_dataset(ref: str | None, target: str, form: str, repo: str | None) -> tuple[dict, str | None]:
    """Export a dataset version: JSONL at once (what was written, and the file to download); a
    `datasets` folder or a hub push as a job (its id)."""
    if not ref:
        raise gr.Error("Pick a dataset to export")
    store = open_store()
    if target == "jsonl":
        result = export.export_jsonl(store, ref, form=form)
        return result, result["path"]
    if target == "hub" and not (repo or "").strip():
        raise gr.Error("Give the hub repo id (user/name) to push to")
    # Writing a `datasets` folder or uploading can take minutes: run it as a job.
    params = {"dataset": ref, "target": target, "form": form, "repo_id": (repo or "").strip() or None}
    job_id = jobs.submit(store, "export_dataset", params, title=f"Export {ref} to {target}")
    gr.Info(f"Export job {job_id} started: follow it in the Jobs tab")
    return {"job": job_id, "dataset": ref, "target": target}, None


@ui_errors
def preview_dataset_card(ref: str | None) -> str:
    """The card a hub push or disk export writes for `ref`, its YAML header fenced."""
    from pipeline.lineage.cards import card_text

    if not ref:
        raise gr.Error("Pick a dataset to preview its card")
    return "```yaml\n" + card_text(open_store(), "dataset", ref).lstrip().removeprefix("---\n").replace(
        "\n---\n", "\n```\n", 1)


def build_datasets_panel(ctx: StudioContext, applied_filter: gr.State) -> None:
    gr.Markdown("Freeze the pairs matching the Review filter as the next version of a named dataset (flagged, "
                "rejected and failed pairs are left out unless the filter asks for them), then export it.")
    with gr.Row():
        name = gr.Textbox(label="Dataset name", placeholder="gdscript-sft", elem_id="dataset-name")
        template = gr.Dropdown(template_names(), value="alpaca", label="Prompt template")
        include_flagged = gr.Checkbox(label="Include flagged pairs")
        test_fraction = gr.Number(SplitSettings.test_fraction, label="Held-out test share", minimum=0, maximum=0.5,
                                  step=0.05, info=SPLIT_HELP["test_fraction"], elem_id="dataset-test-fraction")
        group_by = gr.Dropdown(list(GROUPINGS), value="auto", label="Test split takes whole",
                               info=SPLIT_HELP["group_by"], elem_id="dataset-group-by")
        freeze_btn = gr.Button("Freeze", variant="primary", scale=0, elem_id="dataset-freeze")
    split_md = gr.Markdown(elem_id="dataset-split")
    table = gr.Dataframe(headers=["id", "name", "version", "pairs", "test", "template", "created", "filter"],
                         interactive=False, wrap=True, elem_id="datasets-table")
    with gr.Row():
        which = gr.Dropdown([], label="Dataset", allow_custom_value=True, elem_id="export-dataset")
        target = gr.Radio(["jsonl", "disk", "hub"], value="jsonl", label="Export to")
        form = gr.Radio(list(export.FORMS), value="alpaca", label="JSONL records")
        repo_id = gr.Textbox(label="Hub repo (user/name; token from HF_TOKEN)")
        export_btn = gr.Button("Export", scale=0, elem_id="dataset-export")
    export_out = gr.JSON(label="Export")
    export_file = gr.File(label="Download", interactive=False)
    with gr.Accordion("Dataset card (written on every hub push and disk export)", open=False):
        card_btn = gr.Button("Preview card", scale=0, elem_id="dataset-card-preview")
        card_md = gr.Markdown(elem_id="dataset-card")

    freeze_btn.click(freeze, [applied_filter, name, template, include_flagged, test_fraction, group_by],
                     [table, which, split_md])
    export_btn.click(export_dataset, [which, target, form, repo_id], [export_out, export_file], api_name="do_export")
    card_btn.click(preview_dataset_card, which, card_md)
    ctx.on_load(list_datasets, None, [table, which])
