-- Webhook delivery: endpoints, events, deliveries (the outbox) and their attempts.

CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    workspace_id           TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    url                    TEXT NOT NULL,
    events                 TEXT NOT NULL,   -- JSON array of event names; [] = all
    method                 TEXT NOT NULL,
    headers                TEXT NOT NULL,   -- JSON object
    body_template          TEXT,            -- JSON, or NULL for the default body
    numbers                TEXT NOT NULL,   -- JSON array of E.164 numbers; [] = all
    active                 INTEGER NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  INTEGER,
    disabled_reason        TEXT,
    failing_since          INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, id);

CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    event         TEXT NOT NULL,
    call_id       TEXT,
    number        TEXT,
    payload       TEXT NOT NULL,   -- the default body, byte for byte as sent
    context       TEXT NOT NULL,   -- template variables, JSON object
    created_at    INTEGER NOT NULL
);
CREATE INDEX events_by_workspace ON events (workspace_id, id);
CREATE INDEX events_by_call ON events (workspace_id, call_id) WHERE call_id IS NOT NULL;

CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    webhook_id        TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id          TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    event             TEXT NOT NULL,
    status            TEXT NOT NULL,   -- pending | succeeded | failed
    attempts          INTEGER NOT NULL DEFAULT 0,
    retries_left      INTEGER NOT NULL,
    next_attempt_at   INTEGER,         -- set while pending
    lease_until       INTEGER,         -- a worker holds it until then
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, status);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    delivery_id    TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at   INTEGER NOT NULL,
    status_code    INTEGER,
    latency_ms     INTEGER NOT NULL,
    response_body  TEXT,
    error          TEXT,
    notes          TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempted_at);
