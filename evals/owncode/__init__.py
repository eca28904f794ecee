"""Own code: does the fine-tune write *your* code better? Scores any model on the held-out test
split of a frozen dataset (`run`: chrF and exact match against the human-written code, syntax
validity, the reference's per-token loss, the reference's own doctests in the sandbox; `score`
holds the pure scorers), and compares two models on the same items with a paired bootstrap
interval and a permutation-test p-value, said in words (`paired`, `compare`).

    python -m evals owncode run --model tuned --dataset mycode --wait
    python -m evals owncode list | show ID | compare BASE_ID TUNED_ID
"""
JOB_KINDS = {"owncode_eval": "evals.owncode.run:owncode_eval_job"}
