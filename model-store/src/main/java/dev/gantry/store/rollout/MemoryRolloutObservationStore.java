package dev.gantry.store.rollout;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Rollout observations in a list, gone with the process. */
final class MemoryRolloutObservationStore implements RolloutObservationStore {
    private final RolloutStore rollouts;
    private final List<RolloutObservation> rows = new ArrayList<>();

    MemoryRolloutObservationStore(RolloutStore rollouts) {
        this.rollouts = rollouts;
    }

    @Override
    public synchronized void put(Collection<RolloutObservation> observations) {
        for (RolloutObservation o : observations) {
            rows.removeIf(r -> r.sameKey(o));
            rows.add(o);
        }
    }

    @Override
    public synchronized List<RolloutObservation> step(String rolloutId, int stepIndex) {
        return rows.stream().filter(r -> r.rolloutId().equals(rolloutId) && r.stepIndex() == stepIndex).toList();
    }

    @Override
    public synchronized int deleteEnded(List<String> activeStates) {
        int before = rows.size();
        rows.removeIf(r -> rollouts.load(r.rolloutId()).map(x -> !activeStates.contains(x.state())).orElse(true));
        return before - rows.size();
    }
}
