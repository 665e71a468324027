package dev.gantry.store.rollout;

import java.time.Instant;
import java.util.Objects;

/**
 * One rollout as persisted: who is rolled out against what, where it stands, and its plan in the core's own
 * encoding (the store keeps it as text).
 *
 * @param stepStartedAt when the current step began (its window and its time are counted from it)
 * @param pausedLeftMillis while paused, the time the step had left; 0 otherwise
 */
public record RolloutRecord(String id, String model, long candidate, long baseline, String state, int stepIndex,
                            Instant stepStartedAt, long pausedLeftMillis, String plan, String reason,
                            Instant createdAt, String createdBy, Instant updatedAt) {
    public RolloutRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(stepStartedAt, "stepStartedAt");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(createdBy, "createdBy");
        Objects.requireNonNull(updatedAt, "updatedAt");
        reason = reason == null ? "" : reason;
    }
}
