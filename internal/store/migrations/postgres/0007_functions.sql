-- 0007_functions: what Lambda invoke actions and S3 source actions need:
-- the Slipway functions that a Lambda action's FunctionName names, the
-- temporary job-scoped access keys a function invocation receives (the
-- event's artifactCredentials), and the S3 source poller's last observed
-- version of every watched object. PostgreSQL dialect; the twin of
-- migrations/sqlite/0007_functions.sql: same tables, columns and keys.
--
-- Conventions of 0001_init. A function's definition is its JSON document
-- (the extension API's shape: command or url, timeout, environment). A job
-- key's sealed_secret is sealed with the master key by the caller, as
-- access-key secrets are; token_hash is the lowercase hex SHA-256 of the
-- session token (the token itself is never stored); the key is valid for
-- job_id only, until expires_ms. object_poll_state holds, per (bucket,
-- key) of the artifact store, the ETag and version ID last seen (both
-- empty when the object was missing) and its last-modified time.

CREATE TABLE functions (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    definition  BYTEA            NOT NULL,
    created_ms  BIGINT           NOT NULL,
    updated_ms  BIGINT           NOT NULL
);

CREATE TABLE job_keys (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sealed_secret BYTEA            NOT NULL,
    token_hash    TEXT             NOT NULL,
    job_id        TEXT COLLATE "C" NOT NULL,
    expires_ms    BIGINT           NOT NULL,
    created_ms    BIGINT           NOT NULL
);

CREATE INDEX job_keys_expires ON job_keys (expires_ms);

CREATE TABLE object_poll_state (
    bucket      TEXT COLLATE "C" NOT NULL,
    object_key  TEXT COLLATE "C" NOT NULL,
    etag        TEXT             NOT NULL,
    version_id  TEXT             NOT NULL,
    modified_ms BIGINT           NOT NULL,
    updated_ms  BIGINT           NOT NULL,
    PRIMARY KEY (bucket, object_key)
);
