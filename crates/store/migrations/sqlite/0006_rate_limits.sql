-- Rate-limit budgets (GCRA): the theoretical arrival time of a key's next request, in
-- milliseconds. Used by backends several nodes share; kept here for one schema.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    tat INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_tat ON rate_limits (tat);
