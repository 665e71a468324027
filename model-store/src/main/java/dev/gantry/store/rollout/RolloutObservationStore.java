package dev.gantry.store.rollout;

import java.util.Collection;
import java.util.List;

/**
 * Where the servers sharing a catalogue keep what each saw of the running rollouts' steps, so the one that
 * analyses them (the background lease holder) counts every server's requests. The catalogue's database holds
 * them ({@code JdbcRolloutObservationStore.of(catalog)}). Observations are measurements, not changes: writing
 * them makes no audit entry and wakes no other server.
 */
public interface RolloutObservationStore {

    /**
     * Writes each observation, replacing the one with the same key (rollout, step, server, side), in one
     * transaction.
     */
    void put(Collection<RolloutObservation> observations);

    /** Every server's observations of step {@code stepIndex} of rollout {@code rolloutId}. */
    List<RolloutObservation> step(String rolloutId, int stepIndex);

    /**
     * Deletes the observations of every rollout whose state (in the rollout store) is not one of
     * {@code activeStates}, or that is not there at all; returns how many were deleted.
     */
    int deleteEnded(List<String> activeStates);

    /** A store in memory over {@code rollouts} (whose states decide {@link #deleteEnded}), for tests. */
    static RolloutObservationStore inMemory(RolloutStore rollouts) {
        return new MemoryRolloutObservationStore(rollouts);
    }
}
