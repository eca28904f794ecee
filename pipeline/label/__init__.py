"""Label: turn snippets into instruction pairs with an LLM (or their own docstrings).

`engine` is the request engine, shared with the LLM judge (evals/judge): requests in flight,
retries with backoff (`endpoint.request_label`), budget reserved in flight, local models batched.
`labeller` plans a run and writes each result with its cost row in one transaction (resume without
paying twice); `batch` is the OpenAI Batch API mode, on `batchapi` (submit, poll, read results;
shared with the judge's batch mode); `endpoint` and `cost` estimate tokens and
dollars before a run; `prompts` holds the versioned label prompts; `replies` tidies a model's reply.

    python -m pipeline label estimate|run|retry-failed|failed|prompts|prices
"""
JOB_KINDS = {
    "label": "pipeline.label.labeller:label_job",
    "label_batch": "pipeline.label.batch:label_batch_job",
}
