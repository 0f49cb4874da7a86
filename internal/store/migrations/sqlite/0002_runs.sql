-- 0002_runs: pipeline executions, their stage and action runs, jobs,
-- stage transitions, the event log and named counters. SQLite dialect; the
-- postgres twin has the same tables, columns, keys and indexes.
--
-- Conventions of 0001_init, plus:
--   * a zero time is stored as 0 (and reads back as the zero time), so
--     "has a deadline/lease" is `*_ms > 0`;
--   * booleans are INTEGER 0/1 on both databases (CHECKed);
--   * sequence numbers and counters are INTEGER (int64 in Go);
--   * no foreign keys: DeletePipeline and DeletePipelineRuns are separate
--     calls and the engine may see executions whose pipeline is gone.
-- The active statuses ('InProgress', 'Stopping') are spelt out in the
-- partial index exactly as runs_sql.go spells them in its queries, which
-- is what lets both planners use the index.

-- counters hands out increasing numbers per name (NextSeq).
CREATE TABLE counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

CREATE TABLE executions (
    id           TEXT    NOT NULL PRIMARY KEY,
    pipeline     TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    stage        TEXT    NOT NULL,
    waiting      INTEGER NOT NULL CHECK (waiting IN (0, 1)),
    client_token TEXT    NOT NULL,
    detail       BLOB    NOT NULL,
    started_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX executions_pipeline_seq ON executions (pipeline, seq);
CREATE INDEX executions_active ON executions (pipeline, seq)
    WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_client_token ON executions (pipeline, client_token);

CREATE TABLE stage_runs (
    execution_id TEXT    NOT NULL,
    stage        TEXT    NOT NULL,
    pipeline     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    retry_mode   TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    started_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (execution_id, stage)
) STRICT;
CREATE INDEX stage_runs_pipeline_stage_seq ON stage_runs (pipeline, stage, seq);

CREATE TABLE action_runs (
    id            TEXT    NOT NULL PRIMARY KEY,
    seq           INTEGER NOT NULL,
    pipeline      TEXT    NOT NULL,
    execution_id  TEXT    NOT NULL,
    stage         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    stage_attempt INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    deadline_ms   INTEGER NOT NULL,
    detail        BLOB    NOT NULL,
    started_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX action_runs_execution_action_seq ON action_runs (execution_id, stage, action, seq);
CREATE INDEX action_runs_pipeline_seq ON action_runs (pipeline, seq);
CREATE INDEX action_runs_status_deadline ON action_runs (status, deadline_ms);

-- jobs: category, owner, provider and version are the action type's key.
CREATE TABLE jobs (
    id             TEXT    NOT NULL PRIMARY KEY,
    action_run_id  TEXT    NOT NULL,
    pipeline       TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    provider       TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    lease_until_ms INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_dispatch ON jobs (status, category, owner, provider, version, created_ms, id);
CREATE INDEX jobs_status_lease ON jobs (status, lease_until_ms);
CREATE INDEX jobs_pipeline ON jobs (pipeline);

CREATE TABLE transitions (
    pipeline      TEXT    NOT NULL,
    stage         TEXT    NOT NULL,
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    reason        TEXT    NOT NULL,
    changed_by    TEXT    NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (pipeline, stage)
) STRICT;

-- events is the outbox. Divergence: INTEGER PRIMARY KEY AUTOINCREMENT
-- here, an identity column on PostgreSQL. AUTOINCREMENT guarantees an ID
-- is never reused, even after the newest events are deleted, so a
-- reader's "after" cursor stays valid (identities never reuse anyway).
CREATE TABLE events (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    time_ms      INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    pipeline     TEXT    NOT NULL,
    execution_id TEXT    NOT NULL,
    detail       BLOB    NOT NULL
) STRICT;
CREATE INDEX events_pipeline_id ON events (pipeline, id);
