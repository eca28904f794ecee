"""The Pairs tab's Clean, Import and Datasets panels and its stats figure (see pairs_tab)."""
from __future__ import annotations

import html
import json
from dataclasses import asdict

import gradio as gr

from pipeline import jobs
from pipeline.pairs import export
from pipeline.clean.job import DECONTAM_MODES, CleanConfig, unflag
from pipeline.config import config_from_dict
from pipeline.pairs.importer import ImportConfig, import_file, preview_file, should_run_as_job
from pipeline.pairs.split import GROUPINGS, SplitSettings, describe_split
from pipeline.models.templates import template_names
from studio.widgets import job_status_html, on_start
from studio.common import StudioContext, ui_errors

POLL_S = 1.0
NONE = "(none)"


def job_html(job: dict | None, elem_id: str) -> str:
    return job_status_html(job, elem_id, empty="No job started from this page yet.")


def stats_figure(s: dict):
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


def _poll(ctx: StudioContext, job_id, elem_id: str):
    """(job html, result, keep polling?) for a job id held in a gr.State."""
    if not job_id:
        return job_html(None, elem_id), None, False
    job = ctx.store().get_job(int(job_id))
    finished = job["status"] not in ("queued", "running")
    return job_html(job, elem_id), job.get("result") if finished else None, not finished


# -- Clean ----------------------------------------------------------------------------------------
def build_clean_panel(ctx: StudioContext) -> None:
    defaults = CleanConfig()
    gr.Markdown("Flag exact and near duplicates (MinHash LSH), pairs that contain eval items (GPT-4 "
                "report's 50-character substring method, or word n-grams), and pairs failing length/quality "
                "filters. Nothing is deleted; unflag restores.")
    with gr.Row():
        steps = gr.CheckboxGroup(["exact dedup", "near dedup", "decontaminate", "quality filters"],
                                 value=["exact dedup", "near dedup", "decontaminate", "quality filters"], label="Steps")
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

    def flag_counts() -> str:
        s = ctx.store().pair_stats()["flags"]
        return (f"Flagged now: **{s['duplicate']}** duplicates · **{s['contaminated']}** contaminated · "
                f"**{s['filtered']}** filtered · {s['clean']} clean")

    @ui_errors
    def run(steps_v, statuses_v, threshold_v, dedup_on_v, mode_v, suites_v, suite_path, seed_v):
        names = list(suites_v or []) + ([suite_path] if suite_path else [])
        params = {"statuses": statuses_v or [], "exact_dedup": "exact dedup" in steps_v,
                  "near_dedup": "near dedup" in steps_v, "decontam": "decontaminate" in steps_v,
                  "filters": "quality filters" in steps_v, "near_threshold": threshold_v, "dedup_on": dedup_on_v,
                  "decontam_mode": mode_v, "suites": names, "seed": int(seed_v or 0)}
        cfg = config_from_dict(CleanConfig, params)  # bad settings fail here, not in the job
        if not statuses_v:
            raise gr.Error("Pick at least one status to clean")
        jid = jobs.submit(ctx.store(), "clean", asdict(cfg), title="clean pairs")
        return jid, job_html(ctx.store().get_job(jid), "clean-job"), gr.Timer(active=True)

    @ui_errors
    def tick(jid):
        box, res, going = _poll(ctx, jid, "clean-job")
        if res is not None:
            res = {k: v for k, v in res.items() if k != "config"}
        return box, res if res is not None else gr.update(), flag_counts(), gr.Timer(active=going)

    @ui_errors
    def do_unflag(kind):
        n = unflag(ctx.store(), kind)
        gr.Info(f"{n} pairs unflagged")
        return flag_counts()

    @ui_errors
    def suite_choices():
        return gr.update(choices=["humaneval", *ctx.store().eval_suite_names()]), flag_counts()

    on_start(run_btn, run, [steps, statuses, threshold, dedup_on, mode, suites, suite_file, seed], [job_id, job_box, timer])
    timer.tick(tick, job_id, [job_box, result, counts, timer], show_progress="hidden")
    unflag_btn.click(do_unflag, unflag_kind, counts)
    ctx.on_load(suite_choices, None, [suites, counts])


# -- Import ---------------------------------------------------------------------------------------
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
        maps = {t: gr.Dropdown([NONE], value=NONE, label=f"{t} column", elem_id=f"import-map-{t}")
                for t in ("instruction", "input", "output", "messages", "language")}
        default_language = gr.Textbox(label="Language for all rows", placeholder="e.g. gdscript")
    import_btn = gr.Button("Import", variant="primary", scale=0, elem_id="import-run")
    job_box = gr.HTML(job_html(None, "import-job"))
    report_md = gr.Markdown(elem_id="import-report")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S, active=False)

    def report_text(r: dict) -> str:
        lines = [f"**{r['imported']}** imported · {r['already_present']} already present · "
                 f"**{r['malformed']}** bad records ({r['format']}, {r['shape']} shape)"]
        if r.get("replaced_bytes_records"):
            lines.append(f"{r['replaced_bytes_records']} records had bytes replaced")
        lines += [f"- line {e['line']}: {html.escape(e['error'])}" for e in r["errors"][:50]]
        return "\n".join(lines)

    @ui_errors
    def preview(path, enc, replace):
        if not path:
            return ["Upload a file to preview it.", None] + [gr.update(choices=[NONE], value=NONE)] * len(maps)
        p = preview_file(path, encoding=enc, replace_bad_bytes=replace)
        note = f"{p['format']} · {len(p['columns'])} columns: {', '.join(p['columns']) or 'none'} · suggested shape {p['shape']}"
        if p["problems"]:
            note += "\n\n" + "\n".join(f"- {html.escape(x)}" for x in p["problems"][:10])
        rows = [{k: json.dumps(v, ensure_ascii=False)[:200] if not isinstance(v, str) else v[:200]
                 for k, v in r.items()} for r in p["rows"][:10]]
        import pandas as pd

        choices = [NONE, *p["columns"]]
        return [note, pd.DataFrame(rows)] + [gr.update(choices=choices, value=p["mapping"].get(t, NONE)) for t in maps]

    @ui_errors
    def run(path, enc, replace, shape_v, lang, *mapped):
        if not path:
            raise gr.Error("Upload a file first")
        params = {"path": path, "encoding": enc, "replace_bad_bytes": replace, "shape": shape_v,
                  "default_language": lang or None,
                  **{t: (v if v != NONE else None) for t, v in zip(maps, mapped)}}
        cfg = config_from_dict(ImportConfig, params)
        if should_run_as_job(path):
            jid = jobs.submit(ctx.store(), "import_pairs", asdict(cfg), title="import pairs")
            return jid, job_html(ctx.store().get_job(jid), "import-job"), "", gr.Timer(active=True)
        report = import_file(ctx.store(), cfg)
        return None, job_html(None, "import-job"), report_text(report), gr.Timer(active=False)

    @ui_errors
    def tick(jid):
        box, res, going = _poll(ctx, jid, "import-job")
        return box, report_text(res) if res else gr.update(), gr.Timer(active=going)

    upload.change(preview, [upload, encoding, replace_bad], [preview_note, preview_table, *maps.values()])
    encoding.change(preview, [upload, encoding, replace_bad], [preview_note, preview_table, *maps.values()])
    on_start(import_btn, run, [upload, encoding, replace_bad, shape, default_language, *maps.values()],
                     [job_id, job_box, report_md, timer])
    timer.tick(tick, job_id, [job_box, report_md, timer], show_progress="hidden")


# -- Datasets -------------------------------------------------------------------------------------
SPLIT_HELP = {f: SplitSettings.__dataclass_fields__[f].metadata["help"] for f in ("test_fraction", "group_by")}


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

    def datasets_now() -> tuple[list[list], list[str]]:
        rows = ctx.store().list_datasets()
        return ([[d["id"], d["name"], d["version"], d["size"], d.get("test_size") or 0, d["template"], d["created_at"],
                  json.dumps(d["filter"])] for d in rows], [f"{d['name']}@{d['version']}" for d in rows])

    def listing():
        rows, names = datasets_now()
        return rows, gr.update(choices=names)

    @ui_errors
    def freeze(flt, name_v, template_v, flagged, fraction, grouping):
        ds = export.freeze_dataset(ctx.store(), name_v, flt, template_v, exclude_flagged=not flagged,
                                   split={"test_fraction": float(fraction or 0), "group_by": grouping or "auto"})
        gr.Info(f"Froze {ds['name']}@{ds['version']} with {ds['size']} pairs")
        rows, names = datasets_now()
        return (rows, gr.update(choices=names, value=f"{ds['name']}@{ds['version']}"),
                f"**{ds['name']}@{ds['version']}** · {describe_split(ds['split_info'])}")

    @ui_errors
    def do_export(ref, target_v, form_v, repo):
        if not ref:
            raise gr.Error("Pick a dataset to export")
        store = ctx.store()
        if target_v == "jsonl":
            result = export.export_jsonl(store, ref, form=form_v)
            return result, result["path"]
        if target_v == "hub" and not (repo or "").strip():
            raise gr.Error("Give the hub repo id (user/name) to push to")
        # Writing a `datasets` folder or uploading can take minutes: run it as a job.
        params = {"dataset": ref, "target": target_v, "form": form_v, "repo_id": (repo or "").strip() or None}
        job_id = jobs.submit(store, "export_dataset", params, title=f"Export {ref} to {target_v}")
        gr.Info(f"Export job {job_id} started: follow it in the Jobs tab")
        return {"job": job_id, "dataset": ref, "target": target_v}, None

    freeze_btn.click(freeze, [applied_filter, name, template, include_flagged, test_fraction, group_by],
                     [table, which, split_md])
    export_btn.click(do_export, [which, target, form, repo_id], [export_out, export_file])

    @ui_errors
    def preview_card(ref):
        from pipeline.lineage.cards import card_text

        if not ref:
            raise gr.Error("Pick a dataset to preview its card")
        return "```yaml\n" + card_text(ctx.store(), "dataset", ref).lstrip().removeprefix("---\n").replace(
            "\n---\n", "\n```\n", 1)

    card_btn.click(preview_card, which, card_md)
    ctx.on_load(ui_errors(listing), None, [table, which])
