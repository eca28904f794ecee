"""Curate: find human-written code and cut it into snippets.

GitHub search through PyGithub with date windows past the 1,000-result cap (`github`), safe
shallow fetch at a recorded commit or a local folder (`fetch`, `source_files`), tree-sitter
extraction of functions and methods per language (`extract`, `languages`), and CommitPackFT-style
commit mining with its filters as data (`commits`, `commit_filters`), the secrets and personal-data
pass every snippet and pair goes through before it is stored (`scrub`), and the repo's license as
an SPDX id with the allowed-licenses filter (`licenses`). `job.curate_job` runs it all.

    python -m pipeline curate search|add|add-local|run|fetch|extract|mine|repos|snippets|snippet|scrubbed|rescrub
"""
JOB_KINDS = {"curate": "pipeline.curate.job:curate_job"}
