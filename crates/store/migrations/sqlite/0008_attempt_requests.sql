-- Each attempt's request as it was sent (the webhook's own header values redacted) and
-- the response's headers, for the attempt log. NULL on attempts recorded before.
ALTER TABLE attempts ADD COLUMN request_method TEXT;
ALTER TABLE attempts ADD COLUMN request_url TEXT;
ALTER TABLE attempts ADD COLUMN request_headers TEXT;   -- JSON [[name, value], ...]
ALTER TABLE attempts ADD COLUMN request_body TEXT;
ALTER TABLE attempts ADD COLUMN response_headers TEXT;  -- JSON [[name, value], ...]
