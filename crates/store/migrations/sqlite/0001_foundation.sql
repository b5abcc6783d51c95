-- Foundation: workspaces, API keys, agents, numbers, idempotency records.
-- Times are INTEGER milliseconds since the Unix epoch (UTC).

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    digest        TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, id);

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    config        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX agents_by_workspace ON agents (workspace_id, id);

CREATE TABLE numbers (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number        TEXT NOT NULL UNIQUE,
    agent_id      TEXT NOT NULL REFERENCES agents(id),
    provider      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX numbers_by_workspace ON numbers (workspace_id, id);

-- One row per (workspace, Idempotency-Key). status IS NULL while the first request runs.
CREATE TABLE idempotency_keys (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    status          INTEGER,
    content_type    TEXT,
    body            BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
