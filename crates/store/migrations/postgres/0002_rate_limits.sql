-- Rate-limit budgets shared by the nodes (GCRA): the theoretical arrival time of a
-- key's next request, in milliseconds. Additive: nodes of the previous level ignore it.
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT COLLATE "C" PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_tat ON rate_limits (tat);
