-- Twilio telephony: how each number talks (Gather webhooks or ConversationRelay),
-- what the provider reported about a call, and each workspace's provider credentials
-- (the secret sealed with the server's master key; never stored in clear).

ALTER TABLE numbers ADD COLUMN voice_mode TEXT NOT NULL DEFAULT 'gather';   -- gather | relay
ALTER TABLE numbers ADD COLUMN record_messages INTEGER NOT NULL DEFAULT 0;

ALTER TABLE calls ADD COLUMN provider_details TEXT NOT NULL DEFAULT '{}';   -- JSON object
ALTER TABLE calls ADD COLUMN duration_seconds INTEGER;                       -- as the provider measured it

-- Live calls of a provider, oldest update first: the sweeper that finishes calls whose
-- final status callback never came.
CREATE INDEX calls_live_by_provider ON calls (provider, updated_at)
    WHERE status IN ('queued', 'ringing', 'in_progress');

CREATE TABLE provider_credentials (
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,   -- twilio
    account_sid    TEXT NOT NULL,
    sealed_secret  TEXT NOT NULL,   -- the auth token, encrypted with the master key
    secret_hint    TEXT NOT NULL,   -- its last four characters
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, provider)
);
-- A provider's webhook names its account; this finds the token that signed it.
CREATE INDEX provider_credentials_by_account ON provider_credentials (provider, account_sid);
