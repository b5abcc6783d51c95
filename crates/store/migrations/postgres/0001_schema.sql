-- Frontdesk on PostgreSQL: the schema SQLite reaches through its migrations 0001-0005,
-- in one step. The shapes are SQLite's, so one row mapping reads both: ids and enums
-- are TEXT, times BIGINT milliseconds since the Unix epoch (UTC), JSON is TEXT (kept
-- byte for byte: a JSON object keeps its key order, which JSONB would not), yes/no
-- columns are BOOLEAN. Ids compare byte for byte (COLLATE "C", as in SQLite) whatever
-- the database's collation: pages follow ids, and writers lock rows in id order.
-- Several nodes may share this database: uniqueness and references are constraints,
-- so concurrent writers cannot break them.

CREATE TABLE workspaces (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    digest        TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, id);

CREATE TABLE agents (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    config        TEXT NOT NULL,   -- JSON; tool headers sealed
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX agents_by_workspace ON agents (workspace_id, id);

-- A number routes to an agent of its own workspace (checked by the store); the agent
-- cannot be deleted while a number points at it (no cascade).
CREATE TABLE numbers (
    id               TEXT COLLATE "C" PRIMARY KEY,
    workspace_id     TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number           TEXT NOT NULL UNIQUE,
    agent_id         TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
    provider         TEXT NOT NULL,
    voice_mode       TEXT NOT NULL DEFAULT 'gather' CHECK (voice_mode IN ('gather', 'relay')),
    record_messages  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX numbers_by_workspace ON numbers (workspace_id, id);
CREATE INDEX numbers_by_agent ON numbers (agent_id);

-- One row per (workspace, Idempotency-Key). status IS NULL while the first request runs.
CREATE TABLE idempotency_keys (
    workspace_id    TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    status          BIGINT,
    content_type    TEXT,
    body            BYTEA,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Webhook delivery: endpoints, events, deliveries (the outbox) and their attempts.

CREATE TABLE webhooks (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    workspace_id           TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    url                    TEXT NOT NULL,
    events                 TEXT NOT NULL,   -- JSON array of event names; [] = all
    method                 TEXT NOT NULL,
    headers                TEXT NOT NULL,   -- JSON object, sealed
    body_template          TEXT,            -- JSON, or NULL for the default body
    numbers                TEXT NOT NULL,   -- JSON array of E.164 numbers; [] = all
    active                 BOOLEAN NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  BIGINT,
    disabled_reason        TEXT,
    failing_since          BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, id);
CREATE INDEX webhooks_active ON webhooks (workspace_id) WHERE active;

CREATE TABLE events (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    event         TEXT NOT NULL,
    call_id       TEXT COLLATE "C",
    number        TEXT,
    payload       TEXT NOT NULL,   -- the default body, byte for byte as sent
    context       TEXT NOT NULL,   -- template variables, JSON object
    created_at    BIGINT NOT NULL
);
CREATE INDEX events_by_workspace ON events (workspace_id, id);
CREATE INDEX events_by_call ON events (workspace_id, call_id) WHERE call_id IS NOT NULL;
-- Replays pick a workspace's events by age; the purge picks old events.
CREATE INDEX events_by_age ON events (workspace_id, created_at);
CREATE INDEX events_by_created ON events (created_at);

CREATE TABLE deliveries (
    id                TEXT COLLATE "C" PRIMARY KEY,
    workspace_id      TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    webhook_id        TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id          TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    event             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts          BIGINT NOT NULL DEFAULT 0,
    retries_left      BIGINT NOT NULL,
    next_attempt_at   BIGINT,          -- set while pending
    lease_until       BIGINT,          -- a worker holds it until then
    last_status_code  BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
-- Claims: due pending deliveries, soonest first.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_workspace ON deliveries (workspace_id, id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, status);
-- The purge's "no pending delivery" check and the cascade from events.
CREATE INDEX deliveries_by_event ON deliveries (event_id, status);

CREATE TABLE attempts (
    -- Attempts of one delivery in the order they were recorded (SQLite's rowid).
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id    TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at   BIGINT NOT NULL,
    status_code    BIGINT,
    latency_ms     BIGINT NOT NULL,
    response_body  TEXT,
    error          TEXT,
    notes          TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempted_at, seq);

-- Calls: one row per call, inbound or outbound, with its transcript, collected fields
-- and the conversation engine's state, so any node can resume it from here.

CREATE TABLE calls (
    id                TEXT COLLATE "C" PRIMARY KEY,
    workspace_id      TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- No foreign key: a call's record outlives the agent that answered it.
    agent_id          TEXT COLLATE "C" NOT NULL,
    direction         TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    status            TEXT NOT NULL,   -- queued | ringing | in_progress | completed | ...
    from_number       TEXT NOT NULL,
    to_number         TEXT NOT NULL,
    -- The business's own number: the one called (inbound) or calling (outbound).
    business_number   TEXT GENERATED ALWAYS AS
                          (CASE direction WHEN 'inbound' THEN to_number ELSE from_number END) STORED,
    provider          TEXT NOT NULL,   -- sim | twilio
    provider_call_id  TEXT COLLATE "C",            -- the provider's own id (Twilio's CallSid)
    caller            TEXT NOT NULL,   -- JSON object {phone, name, email}
    call_type         TEXT,
    custom_fields     TEXT NOT NULL,   -- JSON object, in the order collected
    message           TEXT,
    transferred_to    TEXT,
    ai_summary        TEXT,
    turns             TEXT NOT NULL,   -- JSON array [{speaker, text, at}]
    purpose           TEXT,
    end_reason        TEXT,
    tool_calls        TEXT NOT NULL,   -- JSON array
    session           TEXT NOT NULL,   -- JSON, the conversation engine's state
    version           BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    answered_at       BIGINT,
    ended_at          BIGINT,
    updated_at        BIGINT NOT NULL,
    provider_details  TEXT NOT NULL DEFAULT '{}',   -- JSON object
    duration_seconds  BIGINT,                       -- as the provider measured it
    purged_at         BIGINT,                       -- when retention removed its contents
    -- A provider's status callbacks find their call; a repeated inbound webhook cannot
    -- create the call twice (NULLs are distinct: calls without a provider id are free).
    CONSTRAINT calls_provider_call_id UNIQUE (provider, provider_call_id)
);
-- Lists page on id (time-sortable), newest first, within a workspace and per filter.
CREATE INDEX calls_by_workspace ON calls (workspace_id, id);
CREATE INDEX calls_by_status ON calls (workspace_id, status, id);
CREATE INDEX calls_by_type ON calls (workspace_id, call_type, id) WHERE call_type IS NOT NULL;
CREATE INDEX calls_by_number ON calls (workspace_id, business_number, id);
CREATE INDEX calls_by_start ON calls (workspace_id, started_at);
-- Live calls of a provider, oldest update first: the sweeper that finishes calls whose
-- final status callback never came.
CREATE INDEX calls_live_by_provider ON calls (provider, updated_at)
    WHERE status IN ('queued', 'ringing', 'in_progress');
-- Finished calls not yet purged, oldest end first.
CREATE INDEX calls_to_purge ON calls (ended_at) WHERE purged_at IS NULL AND ended_at IS NOT NULL;

-- Each workspace's provider credentials (the secret sealed with the server's master key;
-- never stored in clear).
CREATE TABLE provider_credentials (
    workspace_id   TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,   -- twilio
    account_sid    TEXT NOT NULL,
    sealed_secret  TEXT NOT NULL,   -- the auth token, encrypted with the master key
    secret_hint    TEXT NOT NULL,   -- its last four characters
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, provider)
);
-- A provider's webhook names its account; this finds the token that signed it.
CREATE INDEX provider_credentials_by_account ON provider_credentials (provider, account_sid);
