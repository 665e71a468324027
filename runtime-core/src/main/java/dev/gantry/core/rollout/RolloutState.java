package dev.gantry.core.rollout;

/**
 * Where a rollout stands.
 *
 * <pre>
 * PENDING -> RUNNING (step i) -> RUNNING (step i+1) ... -> PROMOTED
 * RUNNING <-> PAUSED
 * RUNNING, PAUSED -> ROLLED_BACK (a gate failed) | ABORTED (a person) | PROMOTED (a person)
 * </pre>
 */
public enum RolloutState {
    PENDING, RUNNING, PAUSED, PROMOTED, ROLLED_BACK, ABORTED;

    /** Still moving traffic: PENDING, RUNNING or PAUSED. */
    public boolean isActive() {
        return this == PENDING || this == RUNNING || this == PAUSED;
    }
}
