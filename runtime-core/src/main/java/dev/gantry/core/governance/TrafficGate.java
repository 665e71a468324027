package dev.gantry.core.governance;

import dev.gantry.store.deployment.TrafficPolicy;

import java.time.Instant;
import java.util.Optional;

/** Decides whether the versions a traffic policy routes may take that traffic, by their release stage. */
public interface TrafficGate {

    /**
     * @throws dev.gantry.core.error.GantryException FAILED_PRECONDITION naming each version and the rule it
     *     breaks, when a routed version may not take the traffic the policy gives it
     */
    void check(String model, TrafficPolicy policy, Instant now);

    /**
     * Whether a request pinned to {@code version} may be served.
     *
     * @throws dev.gantry.core.error.GantryException GONE naming the successor for a retired version (or one past
     *     its sunset); FAILED_PRECONDITION for one that takes no traffic in its stage
     */
    void checkPinned(String model, long version, Instant now);

    /**
     * As {@link #checkPinned(String, long, Instant)} for a caller with {@code access}: before approval (VALIDATED,
     * PENDING_APPROVAL) a version answers only callers that may test it.
     *
     * @throws dev.gantry.core.error.GantryException FORBIDDEN when a caller with {@link PinnedAccess#RELEASED_ONLY}
     *     pins a version that may not take primary traffic yet
     */
    default void checkPinned(String model, long version, Instant now, PinnedAccess access) {
        checkPinned(model, version, now);
    }

    /** The version's release state, empty when the gate does not know it. */
    Optional<ReleaseStatus> status(String model, long version);

    /** A gate that lets everything through and knows no statuses: serving without governance. */
    static TrafficGate allowAll() {
        return AllowAll.INSTANCE;
    }

    /** The gate of {@link #allowAll()}. */
    enum AllowAll implements TrafficGate {
        INSTANCE;

        @Override
        public void check(String model, TrafficPolicy policy, Instant now) {
        }

        @Override
        public void checkPinned(String model, long version, Instant now) {
        }

        @Override
        public Optional<ReleaseStatus> status(String model, long version) {
            return Optional.empty();
        }
    }
}
