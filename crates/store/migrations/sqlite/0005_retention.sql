-- Retention (FRONTDESK_RETENTION): a finished call's contents (transcript, fields,
-- message, summary, tool calls, engine state, caller's name and email) are removed once
-- it is older than the retention period; the row keeps its ids, times and outcome and
-- says when it was purged. Events older than the period go with their deliveries and
-- attempts.

ALTER TABLE calls ADD COLUMN purged_at INTEGER;

-- Finished calls not yet purged, oldest end first.
CREATE INDEX calls_to_purge ON calls (ended_at) WHERE purged_at IS NULL AND ended_at IS NOT NULL;

-- Events by age, for the purge.
CREATE INDEX events_by_age ON events (created_at);
