package dev.gantry.core.routing;

import dev.gantry.store.deployment.TrafficPolicy;

/**
 * A rollback that happened.
 *
 * @param from the revision that was current before
 * @param to the revision whose policy was restored
 * @param newRevision the revision the rollback created
 * @param policy the policy now in force
 */
public record RollbackResult(long from, long to, long newRevision, TrafficPolicy policy) {
}
