-- What each server sharing the catalogue saw of each running rollout's step (rollout analysis counts every
-- server's requests): one row per rollout, step, server (replica_id, stable for a process's life) and side
-- (CANDIDATE or BASELINE), replaced by its server as its counts grow (about once a second) and deleted when the
-- rollout ends. latency is the histogram's non-empty buckets as "index:count,..." (LatencyCodec).
CREATE TABLE IF NOT EXISTS rollout_observation (
    rollout_id  VARCHAR(64)   NOT NULL,
    step_index  INT           NOT NULL,
    replica_id  VARCHAR(200)  NOT NULL,
    side        VARCHAR(16)   NOT NULL,
    offered     BIGINT        NOT NULL,
    requests    BIGINT        NOT NULL,
    errors      BIGINT        NOT NULL,
    compared    BIGINT        NOT NULL,
    agreed      BIGINT        NOT NULL,
    latency     VARCHAR(1600) NOT NULL,
    updated_at  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    PRIMARY KEY (rollout_id, step_index, replica_id, side)
);
