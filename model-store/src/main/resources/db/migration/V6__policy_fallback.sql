-- The fallback version a traffic policy names (retries a request its chosen version failed); NULL when the
-- policy names none and the router picks the other primary route, else the first standby.
ALTER TABLE policy_revision ADD COLUMN IF NOT EXISTS fallback BIGINT;
