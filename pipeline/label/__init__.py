"""Label: turn snippets into instruction pairs with an LLM (or their own docstrings).

`labeller` is the request engine (requests in flight, retries with backoff, budget reserved in
flight, the result and its cost row in one transaction, resume without paying twice); `batch` is
the OpenAI Batch API mode; `endpoint` and `cost` estimate tokens and dollars before a run;
`prompts` holds the versioned label prompts; `replies` tidies a model's reply into a pair.

    python -m pipeline label estimate|run|retry-failed|failed|prompts|prices
"""
JOB_KINDS = {
    "label": "pipeline.label.labeller:label_job",
    "label_batch": "pipeline.label.batch:label_batch_job",
}
