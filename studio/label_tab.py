"""Label tab: estimate, then run a labelling job with live progress; failed rows, prompts and prices.

Handlers call pipeline.label.labeller (`LabelConfig`, `estimate_labelling`, `start_labelling`,
`preview_messages`, `save_label_prompt`), the functions `python -m pipeline label …` calls, and the
store's prompt templates, prices and failed labels. The API key box lives in this browser session
only: it is handed to the job's child process through its environment and is never written to
the store, the job params or the log.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

import gradio as gr

from pipeline.label import labeller as label
from pipeline.store import Store, open_store
from studio.common import StudioContext, ui_errors
from studio.widgets import config_number, job_status_html, on_start

TITLE = "Label"
POLL_S = 1.0
FAILED_COLUMNS = ["id", "snippet_id", "language", "path", "labeller", "prompt_version", "error"]
PRICE_COLUMNS = ["model", "input_per_mtok", "output_per_mtok", "batch_discount"]


def job_html(job: dict | None) -> str:
    result = (job or {}).get("result") or {}
    note = result.get("message") if job and job["status"] == "done" else None
    return job_status_html(job, "label-job", empty="No labelling job started from this page yet.", note=note)


def _rows(value: Any) -> list[list]:
    """A gr.Dataframe value (pandas in Gradio 6, or plain lists) as a list of rows."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    return value.get("data", []) if isinstance(value, dict) else list(value)


# --- handlers: plain values in, plain values (or gr updates) out -------------------------------

def label_config(model: str | None, prompt: str | None, language: str | None, repo: str | None, limit: Any,
                 concurrency: Any, budget: Any, batch: bool, max_new_tokens: Any, temperature: Any,
                 expected_out: Any, max_retries: Any, timeout: Any, *,
                 retry_failed: bool = False) -> label.LabelConfig:
    """The form (LabelForm.fields, in order) as the CLI's LabelConfig, which validates it."""
    return label.LabelConfig.from_dict({
        "model": model or "", "prompt": prompt or "describe", "language": (language or "").strip() or None,
        "repo": (repo or "").strip() or None, "limit": int(limit) if limit else None,
        "concurrency": int(concurrency), "budget_usd": float(budget) if budget else None, "batch": bool(batch),
        "max_new_tokens": max_new_tokens, "temperature": temperature, "expected_output_tokens": expected_out,
        "max_retries": max_retries, "request_timeout_s": timeout, "retry_failed": retry_failed})


def prompt_choices(store: Store) -> list[str]:
    """Every labelling prompt template as `name@version`, oldest first."""
    return [f"{t['name']}@{t['version']}" for t in store.list_prompt_templates()]


def price_rows(store: Store) -> list[list]:
    return [[p[c] for c in PRICE_COLUMNS] for p in store.list_prices()]


def failed_rows(model: str | None) -> list[list]:
    """The failed labels (of one labeller, or of all when none is picked)."""
    rows = open_store().failed_labels(labeller=model or None)
    return [[r.get(c) for c in FAILED_COLUMNS] for r in rows]


@ui_errors
def show_failed(model: str | None) -> list[list]:
    """The labeller pick changed: its failed rows."""
    return failed_rows(model)


@ui_errors
def refresh(current_model: str | None, current_prompt: str | None) -> tuple:
    """(model choices, prompt choices, price rows, failed rows); keeps the current picks if still
    offered, else the first model (the offline docstring labeller is always there) and the newest prompt."""
    store = open_store()
    models = [m["name"] for m in store.list_models()] + [label.DOCSTRING]
    prompts = prompt_choices(store)
    pick_model = current_model if current_model in models else models[0]
    pick_prompt = current_prompt if current_prompt in prompts else (prompts[-1] if prompts else None)
    return (gr.update(choices=models, value=pick_model), gr.update(choices=prompts, value=pick_prompt),
            price_rows(store), failed_rows(pick_model))


@ui_errors
def estimate(*form: Any) -> str:
    """What labelling with the form's settings would send and cost, as markdown."""
    return "**Estimate:** " + label.estimate_labelling(open_store(), label_config(*form)).summary()


def _start(form: tuple, key: str | None, retry_failed: bool) -> tuple[int, str]:
    store = open_store()
    jid = label.start_labelling(store, label_config(*form, retry_failed=retry_failed),
                                api_key=(key or "").strip() or None)
    gr.Info(f"Labelling job {jid} started")
    return jid, job_html(store.get_job(jid))


@ui_errors
def run_labelling(*form_and_key: Any) -> tuple[int, str]:
    """Start a labelling job: the form's values, then the session's API key. (job id, progress row)."""
    return _start(form_and_key[:-1], form_and_key[-1], False)


@ui_errors
def retry_failed(*form_and_key: Any) -> tuple[int, str]:
    """As run_labelling, for the failed rows only."""
    return _start(form_and_key[:-1], form_and_key[-1], True)


@ui_errors
def tick(jid: int | None, model: str | None) -> tuple:
    """The timer's poll: (progress row, failed rows, job id). Once the job ends its failed rows show
    and the job id clears, which stops the polling."""
    if not jid:
        return gr.skip(), gr.skip(), gr.skip()
    job = open_store().get_job(int(jid))
    if job["status"] in ("queued", "running"):
        return job_html(job), gr.skip(), jid
    return job_html(job), failed_rows(model), None  # finished: show it once, then stop polling it


@ui_errors
def load_prompt(pick: str | None) -> tuple[str, str, str]:
    """The picked `name@version` template into the editor: (name, system, template)."""
    if not pick:
        return "", "", ""
    name, _, version = pick.partition("@")
    t = open_store().get_prompt_template(name, int(version) if version.isdigit() else None)
    return t["name"], t["system"] or "", t["template"]


@ui_errors
def save_prompt(name: str, system: str | None, template: str) -> dict:
    """Save the editor as a new version of the template; the prompt pick moves to it."""
    store = open_store()
    t = label.save_label_prompt(store, name, template, system or None)
    gr.Info(f"Saved {t['name']}@{t['version']}")
    return gr.update(choices=prompt_choices(store), value=f"{t['name']}@{t['version']}")


@ui_errors
def preview(*form: Any) -> list[dict]:
    """The messages the form's settings would send for the first snippet still to label."""
    messages = label.preview_messages(open_store(), label_config(*form))
    if messages is None:
        raise gr.Error("Nothing left to label with these settings")
    return json.loads(json.dumps(messages))


@ui_errors
def save_prices(value: Any) -> list[list]:
    """Save every price row with a model name (an empty discount means the usual 0.5); the table
    as stored."""
    store = open_store()
    saved = 0
    for row in _rows(value):
        if not row or not str(row[0] or "").strip():
            continue
        discount = row[3] if len(row) > 3 and row[3] not in (None, "") else 0.5
        store.set_price(str(row[0]).strip(), row[1], row[2], discount)
        saved += 1
    gr.Info(f"Saved {saved} prices")
    return price_rows(store)


# --- layout ------------------------------------------------------------------------------------

class LabelForm(NamedTuple):
    model: gr.Dropdown
    prompt: gr.Dropdown
    refresh: gr.Button
    language: gr.Textbox
    repo: gr.Textbox
    limit: gr.Number
    concurrency: gr.Slider
    budget: gr.Number
    batch: gr.Checkbox
    api_key: gr.Textbox
    max_new_tokens: gr.Number
    temperature: gr.Number
    expected_out: gr.Number
    max_retries: gr.Number
    timeout: gr.Number

    def fields(self) -> list:
        """The inputs of label_config, in its order (the API key is not one)."""
        return [self.model, self.prompt, self.language, self.repo, self.limit, self.concurrency, self.budget,
                self.batch, self.max_new_tokens, self.temperature, self.expected_out, self.max_retries,
                self.timeout]


class JobPanel(NamedTuple):
    estimate: gr.Button
    run: gr.Button
    retry: gr.Button
    estimate_md: gr.Markdown
    progress: gr.HTML
    job_id: gr.State
    timer: gr.Timer
    failed: gr.Dataframe


class PromptEditor(NamedTuple):
    name: gr.Textbox
    system: gr.Textbox
    template: gr.Code
    save: gr.Button
    preview_button: gr.Button
    preview: gr.JSON


def _layout_form() -> LabelForm:
    cfg = label.LabelConfig
    with gr.Row():
        model = gr.Dropdown([], label="Labeller model", info="registered models, or 'docstring' (offline, free)",
                            scale=2, elem_id="label-model")
        prompt = gr.Dropdown([], label="Prompt template", scale=2, elem_id="label-prompt")
        refresh_btn = gr.Button("Refresh", scale=0, elem_id="label-refresh")
    with gr.Row():
        language = gr.Textbox(label="Language", placeholder="all (e.g. gdscript)", elem_id="label-language")
        repo = gr.Textbox(label="Repo", placeholder="all (owner/name)", elem_id="label-repo")
        limit = config_number(cfg, "limit", "Limit (empty = all)")
    with gr.Row():
        concurrency = gr.Slider(1, 64, value=cfg.default("concurrency"), step=1, label="Requests in flight",
                                info=cfg.help("concurrency"))
        budget = config_number(cfg, "budget_usd", "Budget ($, empty = none)")
        batch = gr.Checkbox(label="Batch API (half price, within 24h)", value=False)
        api_key = gr.Textbox(label="API key (this session only, never stored)", type="password",
                             placeholder="else the model's env var")
    with gr.Accordion("Generation and retries", open=False):
        with gr.Row():
            max_new_tokens = config_number(cfg, "max_new_tokens", "Max new tokens")
            temperature = config_number(cfg, "temperature", "Temperature")
            expected_out = config_number(cfg, "expected_output_tokens", "Expected reply tokens (estimate)")
            max_retries = config_number(cfg, "max_retries", "Retries per request")
            timeout = config_number(cfg, "request_timeout_s", "Request timeout (s)")
    return LabelForm(model, prompt, refresh_btn, language, repo, limit, concurrency, budget, batch, api_key,
                     max_new_tokens, temperature, expected_out, max_retries, timeout)


def _layout_job() -> JobPanel:
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
    return JobPanel(estimate_btn, run_btn, retry_btn, estimate_md, progress, job_id, timer, failed)


def _layout_prompt_editor() -> PromptEditor:
    with gr.Accordion("Prompt template (edit saves a new version)", open=False):
        name = gr.Textbox(label="Name")
        system = gr.Textbox(label="System message", lines=4)
        template = gr.Code(label="User message ({code} {language} {name} {kind} {path} {repo} "
                                 "{engine_version} {context})", language="markdown", lines=10)
        with gr.Row():
            save_btn = gr.Button("Save as new version")
            preview_btn = gr.Button("Preview for the first snippet")
        shown = gr.JSON(label="Messages sent")
    return PromptEditor(name, system, template, save_btn, preview_btn, shown)


def _layout_prices() -> tuple[gr.Dataframe, gr.Button]:
    with gr.Accordion("Prices ($ per million tokens)", open=False):
        prices = gr.Dataframe(headers=PRICE_COLUMNS, datatype=["str", "number", "number", "number"],
                              interactive=True, label="Edit cells or add a row, then save", elem_id="label-prices")
        save_btn = gr.Button("Save prices")
    return prices, save_btn


# --- wiring ------------------------------------------------------------------------------------

def build(ctx: StudioContext) -> None:
    gr.Markdown("Turn snippets into instruction pairs: the model describes each function as the "
                "instruction a user would give; the code becomes the answer. Estimate first; a run "
                "never relabels or pays twice for a stored pair.")
    form = _layout_form()
    job = _layout_job()
    editor = _layout_prompt_editor()
    prices, save_prices_btn = _layout_prices()

    fields = form.fields()
    refresh_outputs = [form.model, form.prompt, prices, job.failed]
    form.refresh.click(refresh, [form.model, form.prompt], refresh_outputs)
    ctx.on_load(refresh, [form.model, form.prompt], refresh_outputs)
    form.model.change(show_failed, form.model, job.failed)
    form.prompt.change(load_prompt, form.prompt, [editor.name, editor.system, editor.template])
    job.estimate.click(estimate, fields, job.estimate_md, api_name="do_estimate")
    on_start(job.run, run_labelling, fields + [form.api_key], [job.job_id, job.progress], api_name="do_run")
    on_start(job.retry, retry_failed, fields + [form.api_key], [job.job_id, job.progress], api_name="do_retry")
    job.timer.tick(tick, [job.job_id, form.model], [job.progress, job.failed, job.job_id], show_progress="hidden")
    editor.save.click(save_prompt, [editor.name, editor.system, editor.template], form.prompt)
    editor.preview_button.click(preview, fields, editor.preview, api_name="do_preview")
    save_prices_btn.click(save_prices, prices, prices)


if __name__ == "__main__":   # python -m studio.label_tab: this tab alone, for development
    import sys

    from studio.shell import run_alone

    run_alone(sys.modules[__name__])
