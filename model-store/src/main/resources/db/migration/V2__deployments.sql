-- Traffic policies in the same database as the catalogue. policy_revision keeps every revision ever applied
-- (in_history marks those still in the deployment's kept history), which answers "what took traffic at T".

CREATE TABLE IF NOT EXISTS deployment (
    model            VARCHAR(128)  NOT NULL PRIMARY KEY,
    current_revision BIGINT        NOT NULL,
    standby          VARCHAR(2000) NOT NULL
);

-- routes: "version=weight,..." in route order; shadow: "version=percent,..."
CREATE TABLE IF NOT EXISTS policy_revision (
    model       VARCHAR(128)  NOT NULL,
    revision    BIGINT        NOT NULL,
    applied_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    actor       VARCHAR(200)  NOT NULL,
    reason      VARCHAR(4000) NOT NULL,
    rollback_of BIGINT,
    routes      VARCHAR(8000) NOT NULL,
    shadow      VARCHAR(8000) NOT NULL,
    in_history  BOOLEAN       NOT NULL,
    PRIMARY KEY (model, revision)
);
CREATE INDEX IF NOT EXISTS policy_revision_by_time ON policy_revision (model, applied_at);
