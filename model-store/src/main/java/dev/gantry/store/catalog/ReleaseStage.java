package dev.gantry.store.catalog;

/**
 * Where a model version is in its release lifecycle.
 *
 * <pre>
 * REGISTERED -> VALIDATING -> VALIDATED | FAILED
 * VALIDATED -> PENDING_APPROVAL -> APPROVED | REJECTED
 * APPROVED -> DEPRECATED -> RETIRED
 * VALIDATED, PENDING_APPROVAL, APPROVED, DEPRECATED -> SUSPENDED -> (back where it was)
 * </pre>
 */
public enum ReleaseStage {
    REGISTERED,
    VALIDATING,
    VALIDATED,
    FAILED,
    PENDING_APPROVAL,
    APPROVED,
    REJECTED,
    DEPRECATED,
    RETIRED,
    SUSPENDED;

    /** The stages a version may be suspended from (and resumed to): those that may take some traffic. */
    public boolean isSuspendable() {
        return this == VALIDATED || this == PENDING_APPROVAL || this == APPROVED || this == DEPRECATED;
    }

    /** FAILED, REJECTED and RETIRED: nothing leads out of them. */
    public boolean isFinal() {
        return this == FAILED || this == REJECTED || this == RETIRED;
    }
}
