"""Versioned schema migrations. Append new steps at the end; never edit an applied one.

Each step is (name, sql) or (name, callable(db)); every step runs in its own transaction and is
recorded in `_migrations`, so opening an old file upgrades it and opening a new one is a no-op.
"""
from __future__ import annotations

from sqlite_utils import Database

INITIAL = """
CREATE TABLE repos (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL DEFAULT 'github',      -- github | local
    full_name TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    license TEXT,                               -- SPDX id
    language TEXT,
    stars INTEGER,
    size_kb INTEGER,
    description TEXT,
    default_branch TEXT,
    pushed_at TEXT,
    commit_sha TEXT,
    engine_version TEXT,                        -- e.g. Godot 3.x / 4.x
    local_path TEXT,
    status TEXT NOT NULL DEFAULT 'new',         -- new | fetched | extracted | failed
    error TEXT,
    stats TEXT,                                 -- JSON: files, functions, lines, skipped
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT
);
CREATE TABLE snippets (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER REFERENCES repos(id),
    path TEXT NOT NULL,
    language TEXT NOT NULL,
    kind TEXT NOT NULL,                         -- function | method | class
    name TEXT,
    class_name TEXT,
    code TEXT NOT NULL,
    docstring TEXT,                             -- the comment/docstring dropped from code
    start_line INTEGER,
    end_line INTEGER,
    lines INTEGER,
    content_hash TEXT NOT NULL,
    tokens INTEGER,
    duplicate_of INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX snippets_repo ON snippets(repo_id);
CREATE INDEX snippets_hash ON snippets(content_hash);
CREATE INDEX snippets_language ON snippets(language);
CREATE TABLE prompt_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    purpose TEXT NOT NULL DEFAULT 'label',      -- label | judge | eval
    system TEXT,
    template TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE(name, version)
);
CREATE TABLE prices (
    model TEXT PRIMARY KEY,
    input_per_mtok REAL NOT NULL,
    output_per_mtok REAL NOT NULL,
    batch_discount REAL NOT NULL DEFAULT 0.5
);
CREATE TABLE pairs (
    id INTEGER PRIMARY KEY,
    instruction TEXT NOT NULL DEFAULT '',
    input TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL,                       -- label | commit | import | chat | docstring
    snippet_id INTEGER REFERENCES snippets(id),
    repo_id INTEGER REFERENCES repos(id),
    commit_sha TEXT,
    path TEXT,
    language TEXT,
    status TEXT NOT NULL DEFAULT 'draft',       -- draft | approved | rejected | failed
    labeller TEXT,                              -- model name
    prompt_version TEXT,
    raw_reply TEXT,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost REAL,
    latency_ms REAL,
    error TEXT,
    dup_group INTEGER,
    contaminated_by TEXT,                       -- eval item id that matched
    flags TEXT,                                 -- JSON list of filter flags
    revision INTEGER NOT NULL DEFAULT 0,        -- bumped on every write: optimistic concurrency
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT
);
CREATE INDEX pairs_status ON pairs(status);
CREATE INDEX pairs_snippet ON pairs(snippet_id);
CREATE TABLE pair_edits (
    id INTEGER PRIMARY KEY,
    pair_id INTEGER NOT NULL REFERENCES pairs(id),
    field TEXT NOT NULL,
    before TEXT,
    after TEXT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    pair_ids TEXT NOT NULL,                     -- JSON list, frozen
    filter TEXT,                                -- JSON of the filter that made it
    template TEXT NOT NULL DEFAULT 'alpaca',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE(name, version)
);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued',      -- queued|running|done|failed|cancelled|interrupted
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    rate REAL,                                  -- items per second
    eta_s REAL,
    message TEXT,
    pid INTEGER,
    pid_started REAL,                           -- process create time: guards against pid reuse
    log_path TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,                                -- JSON
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    started_at TEXT,
    finished_at TEXT,
    heartbeat_at TEXT
);
CREATE INDEX jobs_status ON jobs(status);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    config TEXT NOT NULL,                       -- JSON TrainConfig
    dataset_id INTEGER REFERENCES datasets(id),
    base_model TEXT,
    output_dir TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    job_id INTEGER REFERENCES jobs(id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE run_metrics (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    step INTEGER NOT NULL,
    epoch REAL,
    loss REAL,
    eval_loss REAL,
    lr REAL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,                         -- local | hf | openai | gguf
    path TEXT,                                  -- folder, hub id, gguf file, or model id at endpoint
    base TEXT,                                  -- base model when path is a LoRA adapter
    endpoint TEXT,                              -- base_url for openai-compatible servers
    api_key_env TEXT,                           -- NAME of the env var holding the key, never the key
    template TEXT NOT NULL DEFAULT 'chat',      -- prompt template id
    run_id INTEGER REFERENCES runs(id),
    meta TEXT,                                  -- JSON
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE suites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL DEFAULT 'python',
    shape TEXT NOT NULL,                        -- humaneval | mbpp | humanevalpack
    source TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE suite_tasks (
    id INTEGER PRIMARY KEY,
    suite_id INTEGER NOT NULL REFERENCES suites(id),
    task_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    test TEXT,
    entry_point TEXT,
    canonical_solution TEXT,
    meta TEXT,                                  -- JSON: extra tests, buggy solution, instruction
    UNIQUE(suite_id, task_id)
);
CREATE TABLE evals (
    id INTEGER PRIMARY KEY,
    suite TEXT NOT NULL,
    model TEXT,
    params TEXT NOT NULL DEFAULT '{}',          -- JSON: prompt format, stop, temperature, n, harness
    status TEXT NOT NULL DEFAULT 'new',
    job_id INTEGER REFERENCES jobs(id),
    metrics TEXT,                               -- JSON: pass@k, validity rate, judge scores
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE eval_samples (
    id INTEGER PRIMARY KEY,
    eval_id INTEGER NOT NULL REFERENCES evals(id),
    task_id TEXT NOT NULL,
    sample_idx INTEGER NOT NULL,
    prompt TEXT,
    raw TEXT,
    completion TEXT,
    stop_words TEXT,                            -- JSON
    verdict TEXT,                               -- passed | failed | timeout | error | skipped
    passed INTEGER,
    error TEXT,
    duration_s REAL,
    valid INTEGER,                              -- syntax validity verdict
    findings TEXT,                              -- JSON
    UNIQUE(eval_id, task_id, sample_idx)
);
CREATE TABLE judgments (
    id INTEGER PRIMARY KEY,
    eval_id INTEGER REFERENCES evals(id),
    sample_id INTEGER REFERENCES eval_samples(id),
    judge TEXT NOT NULL,
    mode TEXT NOT NULL,                         -- single | pairwise | reference
    category TEXT,
    score REAL,
    winner TEXT,
    swapped INTEGER,
    raw TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    title TEXT,
    models TEXT NOT NULL,                       -- JSON list of model names
    params TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    model TEXT,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE votes (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER REFERENCES chats(id),
    model_a TEXT NOT NULL,
    model_b TEXT NOT NULL,
    winner TEXT NOT NULL,                       -- a | b | tie
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
"""


def _pairs_fts(db: Database) -> None:
    # Full-text search over what reviewers search for; triggers keep it in sync with edits.
    db.table("pairs").enable_fts(["instruction", "input", "output"], create_triggers=True)


MIGRATIONS: list = [
    ("0001_initial", INITIAL),
    ("0002_pairs_fts", _pairs_fts),
]
