package dev.gantry.store.rollout;

import java.util.List;
import java.util.Optional;

/**
 * Where rollouts are kept, so a restart finds the ones still running. The catalogue's database holds them
 * ({@code JdbcRolloutStore.of(catalog)}).
 */
public interface RolloutStore {

    /** Creates or replaces the rollout with this id; durable when it returns. */
    void save(RolloutRecord record);

    Optional<RolloutRecord> load(String id);

    /** Every rollout of {@code model}, oldest first. */
    List<RolloutRecord> forModel(String model);

    /** Every rollout whose state is one of {@code states}, oldest first. */
    List<RolloutRecord> inStates(List<String> states);

    /** A store in memory, for tests. */
    static RolloutStore inMemory() {
        return new MemoryRolloutStore();
    }
}
