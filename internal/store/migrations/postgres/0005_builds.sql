-- 0005_builds: what Slipway's built-in build actions keep: the build
-- projects that CodeBuild actions name, the secrets that buildspecs and
-- projects reference, and the live logs of action runs. PostgreSQL
-- dialect; the twin of migrations/sqlite/0005_builds.sql: same tables,
-- columns and keys.
--
-- Conventions of 0001_init and 0002_runs (text keys COLLATE "C"). A build
-- project is its JSON document (declaration, the project as
-- CreateBuildProject takes it) plus its name; the per-project build
-- numbers are counters ("codebuild:<project>"). sealed_value is a secret's
-- value sealed with the master key by the caller, as access-key secrets
-- are. action_logs holds one row per chunk of a run's log, numbered from 1
-- per action run (seq); data is the raw bytes the worker sent. No foreign
-- keys, as in 0002.

CREATE TABLE build_projects (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    declaration BYTEA            NOT NULL,
    created_ms  BIGINT           NOT NULL,
    updated_ms  BIGINT           NOT NULL
);

CREATE TABLE secrets (
    name         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sealed_value BYTEA            NOT NULL,
    created_ms   BIGINT           NOT NULL,
    updated_ms   BIGINT           NOT NULL
);

CREATE TABLE action_logs (
    action_run_id TEXT COLLATE "C" NOT NULL,
    seq           BIGINT           NOT NULL,
    time_ms       BIGINT           NOT NULL,
    data          BYTEA            NOT NULL,
    PRIMARY KEY (action_run_id, seq)
);
