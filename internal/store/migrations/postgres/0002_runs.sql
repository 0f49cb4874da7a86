-- 0002_runs: pipeline executions, their stage and action runs, jobs,
-- stage transitions, the event log and named counters. PostgreSQL dialect;
-- the twin of migrations/sqlite/0002_runs.sql: same tables, columns, keys
-- and indexes.
--
-- Conventions of 0001_init, plus:
--   * a zero time is stored as 0 (and reads back as the zero time), so
--     "has a deadline/lease" is `*_ms > 0`;
--   * booleans are INTEGER 0/1 on both databases (CHECKed), not BOOLEAN,
--     so the Go code binds and scans them the same way everywhere;
--   * sequence numbers are BIGINT (int64 in Go), counts and attempts
--     INTEGER;
--   * identifiers and names (IDs, pipeline, stage, action, action type
--     key, status) are COLLATE "C", so comparisons and ORDER BY agree
--     with SQLite's BINARY collation;
--   * no foreign keys: DeletePipeline and DeletePipelineRuns are separate
--     calls and the engine may see executions whose pipeline is gone.
-- The active statuses ('InProgress', 'Stopping') are spelt out in the
-- partial index exactly as runs_sql.go spells them in its queries, which
-- is what lets both planners use the index.

-- counters hands out increasing numbers per name (NextSeq).
CREATE TABLE counters (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BIGINT           NOT NULL
);

CREATE TABLE executions (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pipeline     TEXT COLLATE "C" NOT NULL,
    seq          BIGINT           NOT NULL,
    version      INTEGER          NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    stage        TEXT COLLATE "C" NOT NULL,
    waiting      INTEGER          NOT NULL CHECK (waiting IN (0, 1)),
    client_token TEXT COLLATE "C" NOT NULL,
    detail       BYTEA            NOT NULL,
    started_ms   BIGINT           NOT NULL,
    updated_ms   BIGINT           NOT NULL
);
CREATE INDEX executions_pipeline_seq ON executions (pipeline, seq);
CREATE INDEX executions_active ON executions (pipeline, seq)
    WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_client_token ON executions (pipeline, client_token);

CREATE TABLE stage_runs (
    execution_id TEXT COLLATE "C" NOT NULL,
    stage        TEXT COLLATE "C" NOT NULL,
    pipeline     TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    attempt      INTEGER          NOT NULL,
    retry_mode   TEXT             NOT NULL,
    seq          BIGINT           NOT NULL,
    started_ms   BIGINT           NOT NULL,
    updated_ms   BIGINT           NOT NULL,
    PRIMARY KEY (execution_id, stage)
);
CREATE INDEX stage_runs_pipeline_stage_seq ON stage_runs (pipeline, stage, seq);

CREATE TABLE action_runs (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    seq           BIGINT           NOT NULL,
    pipeline      TEXT COLLATE "C" NOT NULL,
    execution_id  TEXT COLLATE "C" NOT NULL,
    stage         TEXT COLLATE "C" NOT NULL,
    action        TEXT COLLATE "C" NOT NULL,
    stage_attempt INTEGER          NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    deadline_ms   BIGINT           NOT NULL,
    detail        BYTEA            NOT NULL,
    started_ms    BIGINT           NOT NULL,
    updated_ms    BIGINT           NOT NULL
);
CREATE INDEX action_runs_execution_action_seq ON action_runs (execution_id, stage, action, seq);
CREATE INDEX action_runs_pipeline_seq ON action_runs (pipeline, seq);
CREATE INDEX action_runs_status_deadline ON action_runs (status, deadline_ms);

-- jobs: category, owner, provider and version are the action type's key.
CREATE TABLE jobs (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    action_run_id  TEXT COLLATE "C" NOT NULL,
    pipeline       TEXT COLLATE "C" NOT NULL,
    category       TEXT COLLATE "C" NOT NULL,
    owner          TEXT COLLATE "C" NOT NULL,
    provider       TEXT COLLATE "C" NOT NULL,
    version        TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL,
    nonce          TEXT             NOT NULL,
    lease_until_ms BIGINT           NOT NULL,
    data           BYTEA            NOT NULL,
    created_ms     BIGINT           NOT NULL,
    updated_ms     BIGINT           NOT NULL
);
CREATE INDEX jobs_dispatch ON jobs (status, category, owner, provider, version, created_ms, id);
CREATE INDEX jobs_status_lease ON jobs (status, lease_until_ms);
CREATE INDEX jobs_pipeline ON jobs (pipeline);

CREATE TABLE transitions (
    pipeline      TEXT COLLATE "C" NOT NULL,
    stage         TEXT COLLATE "C" NOT NULL,
    disabled      INTEGER          NOT NULL CHECK (disabled IN (0, 1)),
    reason        TEXT             NOT NULL,
    changed_by    TEXT             NOT NULL,
    changed_at_ms BIGINT           NOT NULL,
    PRIMARY KEY (pipeline, stage)
);

-- events is the outbox. Divergence: an identity column here, INTEGER
-- PRIMARY KEY AUTOINCREMENT on SQLite; neither ever reuses an ID. Because
-- every write holds the writer lock, IDs also commit in increasing order,
-- so a reader paging with "id > after" never skips one committed late.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time_ms      BIGINT           NOT NULL,
    type         TEXT             NOT NULL,
    pipeline     TEXT COLLATE "C" NOT NULL,
    execution_id TEXT COLLATE "C" NOT NULL,
    detail       BYTEA            NOT NULL
);
CREATE INDEX events_pipeline_id ON events (pipeline, id);
