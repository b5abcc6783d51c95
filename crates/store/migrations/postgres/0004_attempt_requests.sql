-- Each attempt's request as it was sent (the webhook's own header values redacted) and
-- the response's headers, for the attempt log. NULL on attempts recorded before.
-- Additive: nullable columns, which nodes of the previous level neither write nor read.
ALTER TABLE attempts
    ADD COLUMN IF NOT EXISTS request_method TEXT,
    ADD COLUMN IF NOT EXISTS request_url TEXT,
    ADD COLUMN IF NOT EXISTS request_headers TEXT,   -- JSON [[name, value], ...]
    ADD COLUMN IF NOT EXISTS request_body TEXT,
    ADD COLUMN IF NOT EXISTS response_headers TEXT;  -- JSON [[name, value], ...]
