package dev.gantry.store.rollout;

import java.util.Arrays;
import java.util.Objects;

/**
 * What one server saw of one side (candidate or baseline) of one step of a rollout, from the step's start on
 * that server until it wrote this: counters and a latency histogram as the core counts them (the store keeps
 * them, it does not interpret them). Each server writes its own and replaces it as its counts grow.
 *
 * @param replicaId the server that saw it (stable for that process's life)
 * @param latency the histogram's bucket counts, in the core's bucket order (trailing zero buckets may be omitted)
 */
public record RolloutObservation(String rolloutId, int stepIndex, String replicaId, Side side, long offered,
                                 long requests, long errors, long compared, long agreed, long[] latency) {

    /** Which version of the rollout the counts are of. */
    public enum Side { CANDIDATE, BASELINE }

    public RolloutObservation {
        Objects.requireNonNull(rolloutId, "rolloutId");
        Objects.requireNonNull(replicaId, "replicaId");
        Objects.requireNonNull(side, "side");
        latency = latency.clone();
    }

    @Override
    public long[] latency() {
        return latency.clone();
    }

    /** The same key: rollout, step, server and side. */
    public boolean sameKey(RolloutObservation o) {
        return rolloutId.equals(o.rolloutId) && stepIndex == o.stepIndex && replicaId.equals(o.replicaId)
                && side == o.side;
    }

    /** Whether the counts (not the key) equal {@code o}'s. */
    public boolean sameCounts(RolloutObservation o) {
        return offered == o.offered && requests == o.requests && errors == o.errors && compared == o.compared
                && agreed == o.agreed && Arrays.equals(LatencyCodec.trim(latency), LatencyCodec.trim(o.latency));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RolloutObservation x && sameKey(x) && sameCounts(x);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rolloutId, stepIndex, replicaId, side, requests);
    }

    @Override
    public String toString() {
        return "RolloutObservation[" + rolloutId + " step " + stepIndex + " " + replicaId + " " + side + ": offered "
                + offered + ", requests " + requests + ", errors " + errors + ", compared " + compared + ", agreed "
                + agreed + ", latency " + LatencyCodec.encode(latency) + "]";
    }
}
