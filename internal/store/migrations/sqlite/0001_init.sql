-- 0001_init: Slipway's initial schema, SQLite dialect.
--
-- Portable conventions, kept by the postgres twin of this file:
--   * timestamps are INTEGER Unix milliseconds (UTC), columns named *_ms;
--   * JSON documents and sealed secrets are BLOB (postgres: BYTEA);
--   * text keys compare byte-wise: SQLite's default BINARY collation here,
--     COLLATE "C" in postgres, so ORDER BY and name paging agree.
-- STRICT tables (SQLite only) make SQLite enforce the declared types.

-- pipelines points at the latest version of each pipeline.
CREATE TABLE pipelines (
    name    TEXT    NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

-- pipeline_versions keeps every stored version of every pipeline.
CREATE TABLE pipeline_versions (
    name        TEXT    NOT NULL REFERENCES pipelines (name),
    version     INTEGER NOT NULL,
    declaration BLOB    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) STRICT;

CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
) STRICT;

CREATE TABLE action_types (
    category    TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    declaration BLOB    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (category, owner, provider, version)
) STRICT;

CREATE TABLE access_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    sealed_secret BLOB    NOT NULL,
    user_name     TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
