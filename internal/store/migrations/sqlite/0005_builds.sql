-- 0005_builds: what Slipway's built-in build actions keep: the build
-- projects that CodeBuild actions name, the secrets that buildspecs and
-- projects reference, and the live logs of action runs. SQLite dialect; the
-- postgres twin has the same tables, columns and keys.
--
-- Conventions of 0001_init and 0002_runs. A build project is its JSON
-- document (declaration, the project as CreateBuildProject takes it) plus
-- its name; the per-project build numbers are counters
-- ("codebuild:<project>"). sealed_value is a secret's value sealed with the
-- master key by the caller, as access-key secrets are. action_logs holds
-- one row per chunk of a run's log, numbered from 1 per action run (seq);
-- data is the raw bytes the worker sent. No foreign keys, as in 0002.

CREATE TABLE build_projects (
    name        TEXT    NOT NULL PRIMARY KEY,
    declaration BLOB    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE secrets (
    name         TEXT    NOT NULL PRIMARY KEY,
    sealed_value BLOB    NOT NULL,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE action_logs (
    action_run_id TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    time_ms       INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    PRIMARY KEY (action_run_id, seq)
) STRICT;
