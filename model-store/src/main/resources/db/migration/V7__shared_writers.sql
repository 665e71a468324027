-- Writers that share one database (several replicas on one PostgreSQL) are serialized by the database: each
-- write transaction first locks its row here (SELECT ... FOR UPDATE) and holds it until it commits. (An
-- embedded H2 database has one process and does not use it.)
-- Row 1: catalogue writes (versions, approvals, policies, rollouts, the audit chain); row 2: usage flushes.
CREATE TABLE IF NOT EXISTS catalog_lock (
    id   INT         NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL
);
INSERT INTO catalog_lock (id, name) SELECT 1, 'catalogue writes' WHERE NOT EXISTS (SELECT 1 FROM catalog_lock WHERE id = 1);
INSERT INTO catalog_lock (id, name) SELECT 2, 'usage writes' WHERE NOT EXISTS (SELECT 1 FROM catalog_lock WHERE id = 2);

-- What every server sharing the database must agree on; e.g. audit_key: a fingerprint of the audit chain's key
-- (an HMAC under the key, which does not reveal it), so a replica with another key refuses to start.
CREATE TABLE IF NOT EXISTS catalog_setting (
    name          VARCHAR(64)  NOT NULL PRIMARY KEY,
    setting_value VARCHAR(200) NOT NULL
);
