-- 0008_deployments: CodeDeploy deployments (package deploy runs them).
-- SQLite dialect; the postgres twin has the same tables, columns, keys and
-- indexes.
--
-- Conventions of 0001_init (a zero time is 0). A deployment, a deployment
-- target (one instance of a deployment, with its lifecycle events) and a
-- group instance (an instance's health in a deployment group) are JSON
-- documents the deploy package writes (detail), next to the columns the
-- store looks them up by. A host command is one lifecycle event handed to
-- an instance's agent. active is 1 while a deployment is not finished.

CREATE TABLE deploy_deployments (
    id          TEXT    NOT NULL PRIMARY KEY,
    application TEXT    NOT NULL,
    group_name  TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    active      INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    detail      BLOB    NOT NULL
) STRICT;
CREATE INDEX deploy_deployments_group ON deploy_deployments (application, group_name, created_ms);
CREATE INDEX deploy_deployments_active ON deploy_deployments (active);

CREATE TABLE deploy_targets (
    deployment_id TEXT    NOT NULL,
    instance      TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    updated_ms    INTEGER NOT NULL,
    detail        BLOB    NOT NULL,
    PRIMARY KEY (deployment_id, instance)
) STRICT;

CREATE TABLE deploy_host_commands (
    id            TEXT    NOT NULL PRIMARY KEY,
    deployment_id TEXT    NOT NULL,
    instance      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    nonce         INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX deploy_host_commands_instance ON deploy_host_commands (instance, status);
CREATE INDEX deploy_host_commands_deployment ON deploy_host_commands (deployment_id);

CREATE TABLE deploy_group_instances (
    group_id   TEXT    NOT NULL,
    instance   TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    detail     BLOB    NOT NULL,
    PRIMARY KEY (group_id, instance)
) STRICT;
