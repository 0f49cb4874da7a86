-- 0001_init: Slipway's initial schema, PostgreSQL dialect. The twin of
-- migrations/sqlite/0001_init.sql: same tables, columns and keys.
--
-- Portable conventions:
--   * timestamps are BIGINT Unix milliseconds (UTC), columns named *_ms;
--   * JSON documents and sealed secrets are BYTEA (sqlite: BLOB);
--   * text keys are COLLATE "C", so they compare byte-wise like SQLite's
--     BINARY collation whatever the database's locale: ORDER BY and name
--     paging (name > ?) agree on both databases ("B" sorts before "a").
-- Versions are INTEGER, as the API's int32 pipeline versions.

-- pipelines points at the latest version of each pipeline.
CREATE TABLE pipelines (
    name    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    version INTEGER          NOT NULL
);

-- pipeline_versions keeps every stored version of every pipeline.
CREATE TABLE pipeline_versions (
    name        TEXT COLLATE "C" NOT NULL REFERENCES pipelines (name),
    version     INTEGER          NOT NULL,
    declaration BYTEA            NOT NULL,
    created_ms  BIGINT           NOT NULL,
    updated_ms  BIGINT           NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE tags (
    resource_arn TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    value        TEXT             NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

CREATE TABLE action_types (
    category    TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C" NOT NULL,
    provider    TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    declaration BYTEA            NOT NULL,
    created_ms  BIGINT           NOT NULL,
    PRIMARY KEY (category, owner, provider, version)
);

CREATE TABLE access_keys (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sealed_secret BYTEA            NOT NULL,
    user_name     TEXT             NOT NULL,
    created_ms    BIGINT           NOT NULL
);

CREATE TABLE settings (
    key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT             NOT NULL
);
