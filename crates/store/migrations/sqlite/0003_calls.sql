-- Calls: one row per call, inbound or outbound, with its transcript, collected fields
-- and the conversation engine's state, so any node can resume it from here.
-- Times are INTEGER milliseconds since the Unix epoch (UTC); JSON columns are text.

CREATE TABLE calls (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- No foreign key: a call's record outlives the agent that answered it.
    agent_id          TEXT NOT NULL,
    direction         TEXT NOT NULL,   -- inbound | outbound
    status            TEXT NOT NULL,   -- queued | ringing | in_progress | completed | ...
    from_number       TEXT NOT NULL,
    to_number         TEXT NOT NULL,
    -- The business's own number: the one called (inbound) or calling (outbound).
    business_number   TEXT GENERATED ALWAYS AS
                          (CASE direction WHEN 'inbound' THEN to_number ELSE from_number END) VIRTUAL,
    provider          TEXT NOT NULL,   -- sim | twilio
    provider_call_id  TEXT,            -- the provider's own id (Twilio's CallSid)
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
    version           INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    answered_at       INTEGER,
    ended_at          INTEGER,
    updated_at        INTEGER NOT NULL
);
-- Lists page on id (time-sortable), newest first, within a workspace and per filter.
CREATE INDEX calls_by_workspace ON calls (workspace_id, id);
CREATE INDEX calls_by_status ON calls (workspace_id, status, id);
CREATE INDEX calls_by_type ON calls (workspace_id, call_type, id) WHERE call_type IS NOT NULL;
CREATE INDEX calls_by_number ON calls (workspace_id, business_number, id);
CREATE INDEX calls_by_start ON calls (workspace_id, started_at);
-- A provider's status callbacks find their call; a repeated inbound webhook cannot
-- create the call twice.
CREATE UNIQUE INDEX calls_by_provider_id ON calls (provider, provider_call_id)
    WHERE provider_call_id IS NOT NULL;
