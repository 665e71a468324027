-- API keys, when the catalogue is shared by several servers (PostgreSQL): one set of keys for every replica.
-- (A server on the embedded H2 catalogue keeps its keys in <data>/keys.json and leaves this table empty.)
-- Only a SHA-256 of each secret is stored. A name belongs to one key for good, revoked or not: UNIQUE (name).
-- seq orders the keys as they were created (a rotation keeps it); roles and models are newline-separated.
CREATE TABLE IF NOT EXISTS api_key (
    id              VARCHAR(32)   NOT NULL PRIMARY KEY,
    name            VARCHAR(64)   NOT NULL,
    seq             BIGINT        NOT NULL,
    roles           VARCHAR(200)  NOT NULL,
    models          VARCHAR(65535) NOT NULL,
    created_at      TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    expires_at      TIMESTAMP(6) WITH TIME ZONE,
    revoked_at      TIMESTAMP(6) WITH TIME ZONE,
    secret_sha256   CHAR(64)      NOT NULL,
    rate_per_second DOUBLE PRECISION,
    created_by      VARCHAR(32),
    CONSTRAINT api_key_name_unique UNIQUE (name),
    CONSTRAINT api_key_seq_unique UNIQUE (seq)
);
