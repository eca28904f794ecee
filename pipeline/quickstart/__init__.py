"""Quickstart: the whole road on the embedded defaults, as one guided job a newcomer can watch.

prepare the default model → curate a local code folder (the studio's own source by default) →
label it (docstrings, or a model on a handful) → review (clean, then approve what passes) →
freeze a dataset → LoRA fine-tune the default model for a few minutes → pass@k and syntax
validity of base and tuned on a small, stated subset of HumanEval → compare. Each step says what
it did and what comes next, with its expected duration before it starts.

    python -m pipeline quickstart plan      # the steps, their expected minutes, what is done
    python -m pipeline quickstart run --wait
"""
JOB_KINDS = {"quickstart": "pipeline.quickstart.road:quickstart_job"}
