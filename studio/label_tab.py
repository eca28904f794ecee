"""Label tab: estimate, then run a labelling job with live progress; failed rows, prompts and prices.

Every button calls pipeline.label.labeller (the CLI `python -m pipeline label …` calls the same functions).
The API key box lives in this browser session only: it is handed to the job's child process
through its environment and is never written to the store, the job params or the log.
"""
from __future__ import annotations

import json

import gradio as gr

from pipeline.label import labeller as label
from studio.widgets import config_number, job_status_html, on_start
from studio.common import StudioContext, ui_errors

TITLE = "Label"
POLL_S = 1.0
FAILED_COLUMNS = ["id", "snippet_id", "language", "path", "labeller", "prompt_version", "error"]
PRICE_COLUMNS = ["model", "input_per_mtok", "output_per_mtok", "batch_discount"]


def job_html(job: dict | None) -> str:
    result = (job or {}).get("result") or {}
    note = result.get("message") if job and job["status"] == "done" else None
    return job_status_html(job, "label-job", empty="No labelling job started from this page yet.", note=note)


def _rows(value) -> list[list]:
    """A gr.Dataframe value (pandas in Gradio 6, or plain lists) as a list of rows."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    return value.get("data", []) if isinstance(value, dict) else list(value)


def build(ctx: StudioContext) -> None:
    LabelConfig = label.LabelConfig
    gr.Markdown("Turn snippets into instruction pairs: the model describes each function as the "
                "instruction a user would give; the code becomes the answer. Estimate first; a run "
                "never relabels or pays twice for a stored pair.")
    with gr.Row():
        model = gr.Dropdown([], label="Labeller model", info="registered models, or 'docstring' (offline, free)",
                            scale=2, elem_id="label-model")
        prompt = gr.Dropdown([], label="Prompt template", scale=2, elem_id="label-prompt")
        refresh_btn = gr.Button("Refresh", scale=0, elem_id="label-refresh")
    with gr.Row():
        language = gr.Textbox(label="Language", placeholder="all (e.g. gdscript)", elem_id="label-language")
        repo = gr.Textbox(label="Repo", placeholder="all (owner/name)", elem_id="label-repo")
        limit = config_number(LabelConfig, "limit", "Limit (empty = all)")
    with gr.Row():
        concurrency = gr.Slider(1, 64, value=LabelConfig.default("concurrency"), step=1, label="Requests in flight",
                                info=LabelConfig.help("concurrency"))
        budget = config_number(LabelConfig, "budget_usd", "Budget ($, empty = none)")
        batch = gr.Checkbox(label="Batch API (half price, within 24h)", value=False)
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password",
                             placeholder="else the model's env var")
    with gr.Accordion("Generation and retries", open=False):
        with gr.Row():
            max_new_tokens = config_number(LabelConfig, "max_new_tokens", "Max new tokens")
            temperature = config_number(LabelConfig, "temperature", "Temperature")
            expected_out = config_number(LabelConfig, "expected_output_tokens", "Expected reply tokens (estimate)")
            max_retries = config_number(LabelConfig, "max_retries", "Retries per request")
            timeout = config_number(LabelConfig, "request_timeout_s", "Request timeout (s)")
    with gr.Row():
        estimate_btn = gr.Button("Estimate", elem_id="label-estimate-btn")
        run_btn = gr.Button("Run", variant="primary", elem_id="label-run-btn")
        retry_btn = gr.Button("Retry failed", elem_id="label-retry-btn")
    estimate_md = gr.Markdown(elem_id="label-estimate")
    progress = gr.HTML(job_html(None), elem_id="label-progress")
    job_id = gr.State(None)
    timer = gr.Timer(POLL_S)

    gr.Markdown("### Failed rows")
    failed = gr.Dataframe(headers=FAILED_COLUMNS, interactive=False, wrap=True, elem_id="label-failed")

    with gr.Accordion("Prompt template (edit saves a new version)", open=False):
        t_name = gr.Textbox(label="Name")
        t_system = gr.Textbox(label="System message", lines=4)
        t_template = gr.Code(label="User message ({code} {language} {name} {kind} {path} {repo} "
                                   "{engine_version} {context})", language="markdown", lines=10)
        with gr.Row():
            save_prompt_btn = gr.Button("Save as new version")
            preview_btn = gr.Button("Preview for the first snippet")
        preview = gr.JSON(label="Messages sent")

    with gr.Accordion("Prices ($ per million tokens)", open=False):
        prices = gr.Dataframe(headers=PRICE_COLUMNS, datatype=["str", "number", "number", "number"],
                              interactive=True, label="Edit cells or add a row, then save", elem_id="label-prices")
        save_prices_btn = gr.Button("Save prices")

    form = [model, prompt, language, repo, limit, concurrency, budget, batch, max_new_tokens, temperature,
            expected_out, max_retries, timeout]

    def config(m, p, lang, rp, lim, conc, bud, bat, mnt, temp, exp, retries, tmo, retry_failed=False):
        return label.LabelConfig.from_dict({
            "model": m or "", "prompt": p or "describe", "language": (lang or "").strip() or None,
            "repo": (rp or "").strip() or None, "limit": int(lim) if lim else None, "concurrency": int(conc),
            "budget_usd": float(bud) if bud else None, "batch": bool(bat),
            "max_new_tokens": mnt, "temperature": temp, "expected_output_tokens": exp,
            "max_retries": retries, "request_timeout_s": tmo,
            "retry_failed": retry_failed})

    @ui_errors
    def refresh(current_model, current_prompt):
        store = ctx.store()
        models = [m["name"] for m in store.list_models()] + [label.DOCSTRING]
        prompts = [f"{t['name']}@{t['version']}" for t in store.list_prompt_templates()]
        pick_model = current_model if current_model in models else models[0]
        pick_prompt = current_prompt if current_prompt in prompts else (prompts[-1] if prompts else None)
        price_rows = [[p[c] for c in PRICE_COLUMNS] for p in store.list_prices()]
        return (gr.update(choices=models, value=pick_model), gr.update(choices=prompts, value=pick_prompt),
                price_rows, failed_rows(pick_model))

    def failed_rows(m):
        rows = ctx.store().failed_labels(labeller=m or None)
        return [[r.get(c) for c in FAILED_COLUMNS] for r in rows]

    @ui_errors
    def do_estimate(*values):
        return "**Estimate:** " + label.estimate_labelling(ctx.store(), config(*values)).summary()

    def start(values, key, retry_failed):
        store = ctx.store()
        jid = label.start_labelling(store, config(*values, retry_failed=retry_failed), api_key=(key or "").strip() or None)
        gr.Info(f"Labelling job {jid} started")
        return jid, job_html(store.get_job(jid))

    @ui_errors
    def do_run(*values):
        return start(values[:-1], values[-1], False)

    @ui_errors
    def do_retry(*values):
        return start(values[:-1], values[-1], True)

    @ui_errors
    def tick(jid, m):
        if not jid:
            return gr.skip(), gr.skip(), gr.skip()
        job = ctx.store().get_job(int(jid))
        if job["status"] in ("queued", "running"):
            return job_html(job), gr.skip(), jid
        return job_html(job), failed_rows(m), None  # finished: show it once, then stop polling it

    @ui_errors
    def load_prompt(p):
        if not p:
            return "", "", ""
        name, _, version = p.partition("@")
        t = ctx.store().get_prompt_template(name, int(version) if version.isdigit() else None)
        return t["name"], t["system"] or "", t["template"]

    @ui_errors
    def save_prompt(name, system, template):
        t = label.save_label_prompt(ctx.store(), name, template, system or None)
        gr.Info(f"Saved {t['name']}@{t['version']}")
        choices = [f"{x['name']}@{x['version']}" for x in ctx.store().list_prompt_templates()]
        return gr.update(choices=choices, value=f"{t['name']}@{t['version']}")

    @ui_errors
    def do_preview(*values):
        messages = label.preview_messages(ctx.store(), config(*values))
        if messages is None:
            raise gr.Error("Nothing left to label with these settings")
        return json.loads(json.dumps(messages))

    @ui_errors
    def save_prices(value):
        store = ctx.store()
        saved = 0
        for row in _rows(value):
            if not row or not str(row[0] or "").strip():
                continue
            discount = row[3] if len(row) > 3 and row[3] not in (None, "") else 0.5
            store.set_price(str(row[0]).strip(), row[1], row[2], discount)
            saved += 1
        gr.Info(f"Saved {saved} prices")
        return [[p[c] for c in PRICE_COLUMNS] for p in store.list_prices()]

    refresh_outputs = [model, prompt, prices, failed]
    refresh_btn.click(refresh, [model, prompt], refresh_outputs)
    ctx.on_load(refresh, [model, prompt], refresh_outputs)
    model.change(ui_errors(failed_rows), model, failed)
    prompt.change(load_prompt, prompt, [t_name, t_system, t_template])
    estimate_btn.click(do_estimate, form, estimate_md)
    on_start(run_btn, do_run, form + [api_key], [job_id, progress])
    on_start(retry_btn, do_retry, form + [api_key], [job_id, progress])
    timer.tick(tick, [job_id, model], [progress, failed, job_id], show_progress="hidden")
    save_prompt_btn.click(save_prompt, [t_name, t_system, t_template], prompt)
    preview_btn.click(do_preview, form, preview)
    save_prices_btn.click(save_prices, prices, prices)


if __name__ == "__main__":   # python -m studio.label_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
