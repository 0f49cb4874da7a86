-- 0004_deploy: the CodeDeploy control plane: applications, custom
-- deployment configurations, deployment groups, on-premises instances with
-- their tags, and application revisions. PostgreSQL dialect; the twin of
-- migrations/sqlite/0004_deploy.sql: same tables, columns, keys and
-- indexes.
--
-- Conventions of 0001_init and 0002_runs (a zero time is 0; text keys
-- COLLATE "C"). The predefined CodeDeployDefault.* configurations are not
-- rows. A deployment group is its JSON document (info) plus the columns
-- the store looks it up by; application, name, id and config_name are
-- authoritative. Revisions are keyed by a revision_key the codedeploy
-- package derives from the location. No foreign keys: DeleteApplication
-- and RenameApplication cascade by hand, in one transaction.

CREATE TABLE deploy_applications (
    name             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id               TEXT COLLATE "C" NOT NULL UNIQUE,
    compute_platform TEXT             NOT NULL,
    created_ms       BIGINT           NOT NULL
);

CREATE TABLE deploy_configs (
    name              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id                TEXT COLLATE "C" NOT NULL,
    compute_platform  TEXT             NOT NULL,
    min_healthy_type  TEXT             NOT NULL,
    min_healthy_value INTEGER          NOT NULL,
    created_ms        BIGINT           NOT NULL
);

CREATE TABLE deploy_groups (
    application TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL UNIQUE,
    config_name TEXT COLLATE "C" NOT NULL,
    info        BYTEA            NOT NULL,
    created_ms  BIGINT           NOT NULL,
    updated_ms  BIGINT           NOT NULL,
    PRIMARY KEY (application, name)
);
CREATE INDEX deploy_groups_config ON deploy_groups (config_name);

-- An instance is registered while deregistered_ms = 0. Exactly one of
-- iam_user_arn and iam_session_arn is non-empty.
CREATE TABLE deploy_instances (
    name            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    iam_user_arn    TEXT COLLATE "C" NOT NULL,
    iam_session_arn TEXT COLLATE "C" NOT NULL,
    instance_arn    TEXT             NOT NULL,
    registered_ms   BIGINT           NOT NULL,
    deregistered_ms BIGINT           NOT NULL
);
CREATE INDEX deploy_instances_user_arn ON deploy_instances (iam_user_arn);
CREATE INDEX deploy_instances_session_arn ON deploy_instances (iam_session_arn);

CREATE TABLE deploy_instance_tags (
    instance TEXT COLLATE "C" NOT NULL,
    key      TEXT COLLATE "C" NOT NULL,
    value    TEXT             NOT NULL,
    PRIMARY KEY (instance, key)
);

CREATE TABLE deploy_revisions (
    application   TEXT COLLATE "C" NOT NULL,
    revision_key  TEXT COLLATE "C" NOT NULL,
    revision_type TEXT             NOT NULL,
    location      BYTEA            NOT NULL,
    description   TEXT             NOT NULL,
    s3_bucket     TEXT COLLATE "C" NOT NULL,
    s3_key        TEXT COLLATE "C" NOT NULL,
    registered_ms BIGINT           NOT NULL,
    first_used_ms BIGINT           NOT NULL,
    last_used_ms  BIGINT           NOT NULL,
    PRIMARY KEY (application, revision_key)
);
