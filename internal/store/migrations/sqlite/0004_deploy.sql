-- 0004_deploy: the CodeDeploy control plane: applications, custom
-- deployment configurations, deployment groups, on-premises instances with
-- their tags, and application revisions. SQLite dialect; the postgres twin
-- has the same tables, columns, keys and indexes.
--
-- Conventions of 0001_init and 0002_runs (a zero time is 0). The
-- predefined CodeDeployDefault.* configurations are not rows. A deployment
-- group is its JSON document (info) plus the columns the store looks it up
-- by; application, name, id and config_name are authoritative. Revisions
-- are keyed by a revision_key the codedeploy package derives from the
-- location. No foreign keys: DeleteApplication and RenameApplication
-- cascade by hand, in one transaction.

CREATE TABLE deploy_applications (
    name             TEXT    NOT NULL PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    compute_platform TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL
) STRICT;

CREATE TABLE deploy_configs (
    name              TEXT    NOT NULL PRIMARY KEY,
    id                TEXT    NOT NULL,
    compute_platform  TEXT    NOT NULL,
    min_healthy_type  TEXT    NOT NULL,
    min_healthy_value INTEGER NOT NULL,
    created_ms        INTEGER NOT NULL
) STRICT;

CREATE TABLE deploy_groups (
    application TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    id          TEXT    NOT NULL UNIQUE,
    config_name TEXT    NOT NULL,
    info        BLOB    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (application, name)
) STRICT;
CREATE INDEX deploy_groups_config ON deploy_groups (config_name);

-- An instance is registered while deregistered_ms = 0. Exactly one of
-- iam_user_arn and iam_session_arn is non-empty.
CREATE TABLE deploy_instances (
    name            TEXT    NOT NULL PRIMARY KEY,
    iam_user_arn    TEXT    NOT NULL,
    iam_session_arn TEXT    NOT NULL,
    instance_arn    TEXT    NOT NULL,
    registered_ms   INTEGER NOT NULL,
    deregistered_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX deploy_instances_user_arn ON deploy_instances (iam_user_arn);
CREATE INDEX deploy_instances_session_arn ON deploy_instances (iam_session_arn);

CREATE TABLE deploy_instance_tags (
    instance TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (instance, key)
) STRICT;

CREATE TABLE deploy_revisions (
    application   TEXT    NOT NULL,
    revision_key  TEXT    NOT NULL,
    revision_type TEXT    NOT NULL,
    location      BLOB    NOT NULL,
    description   TEXT    NOT NULL,
    s3_bucket     TEXT    NOT NULL,
    s3_key        TEXT    NOT NULL,
    registered_ms INTEGER NOT NULL,
    first_used_ms INTEGER NOT NULL,
    last_used_ms  INTEGER NOT NULL,
    PRIMARY KEY (application, revision_key)
) STRICT;
