-- Progressive rollouts: one row per rollout, finished ones kept. plan holds the plan as the core encodes it
-- (steps and gate thresholds); the store does not read it.

CREATE TABLE IF NOT EXISTS rollout (
    id              VARCHAR(64)   NOT NULL PRIMARY KEY,
    model           VARCHAR(128)  NOT NULL,
    candidate       BIGINT        NOT NULL,
    baseline        BIGINT        NOT NULL,
    state           VARCHAR(32)   NOT NULL,
    step_index      INT           NOT NULL,
    step_started_at TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    paused_left_ms  BIGINT        NOT NULL,
    plan            VARCHAR(8000) NOT NULL,
    reason          VARCHAR(4000) NOT NULL,
    created_at      TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    created_by      VARCHAR(200)  NOT NULL,
    updated_at      TIMESTAMP(9) WITH TIME ZONE NOT NULL
);
CREATE INDEX IF NOT EXISTS rollout_by_model ON rollout (model, created_at);
