"""Clean: flag pairs that should not be trained on.

Exact and MinHash near-duplicate detection (`dedup`), decontamination against eval suites with
the GPT-4 report's 50-character probes and n-gram overlap (`decontam`), and length/quality filters
(`quality`). `job.clean_job` runs them over the pairs and records flags, never deleting a pair.

    python -m pipeline pairs clean [--unflag]
"""
JOB_KINDS = {"clean": "pipeline.clean.job:clean_job"}
