"""Curate: find human-written code and cut it into snippets.

GitHub search through PyGithub with date windows past the 1,000-result cap (`github`), safe
shallow fetch at a recorded commit or a local folder (`fetch`, `source_files`), tree-sitter
extraction of functions and methods per language (`extract`, `languages`), and CommitPackFT-style
commit mining with its filters as data (`commits`, `commit_filters`). `job.curate_job` runs it all.

    python -m pipeline curate search|add|add-local|run|fetch|extract|mine|repos|snippets|snippet
"""
JOB_KINDS = {"curate": "pipeline.curate.job:curate_job"}
