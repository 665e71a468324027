package dev.gantry.store.rollout;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Rollouts in a map, gone with the process. */
final class MemoryRolloutStore implements RolloutStore {
    private final Map<String, RolloutRecord> rollouts = new LinkedHashMap<>();

    @Override
    public synchronized void save(RolloutRecord record) {
        rollouts.put(record.id(), record);
    }

    @Override
    public synchronized Optional<RolloutRecord> load(String id) {
        return Optional.ofNullable(rollouts.get(id));
    }

    @Override
    public synchronized List<RolloutRecord> forModel(String model) {
        return rollouts.values().stream().filter(r -> r.model().equals(model))
                .sorted(Comparator.comparing(RolloutRecord::createdAt)).toList();
    }

    @Override
    public synchronized List<RolloutRecord> inStates(List<String> states) {
        return rollouts.values().stream().filter(r -> states.contains(r.state()))
                .sorted(Comparator.comparing(RolloutRecord::createdAt)).toList();
    }
}
