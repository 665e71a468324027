-- Usage per consumer: one row per (minute, key, model, version) with what was used in that minute.
-- epoch_minute is minutes since 1970-01-01T00:00Z (so a day is epoch_minute / 1440 on any database).
CREATE TABLE IF NOT EXISTS usage_minute (
    epoch_minute BIGINT NOT NULL,
    key_id VARCHAR(200) NOT NULL,
    model VARCHAR(200) NOT NULL,
    version BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    bytes_in BIGINT NOT NULL,
    bytes_out BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    compute_nanos BIGINT NOT NULL,
    cost DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (epoch_minute, key_id, model, version)
);
CREATE INDEX IF NOT EXISTS usage_minute_by_key ON usage_minute (key_id, epoch_minute);
