package dev.gantry.store.deployment;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One applied traffic policy in a model's history.
 *
 * @param revision its number, 1 for the first policy, one more for each change
 * @param rollbackOf the revision this one rolled back from, when it is a rollback
 * @param reason why it was applied, as the actor said (may be empty)
 */
public record PolicyRevision(long revision, Instant time, String actor, TrafficPolicy policy,
                             Optional<Long> rollbackOf, String reason) {
    public PolicyRevision {
        if (revision < 1) {
            throw new IllegalArgumentException("revision must be >= 1, was " + revision);
        }
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(rollbackOf, "rollbackOf");
        reason = reason == null ? "" : reason;
    }
}
