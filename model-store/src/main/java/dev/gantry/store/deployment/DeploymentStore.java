package dev.gantry.store.deployment;

import java.util.List;
import java.util.Optional;

/** Keeps every model's deployment record across restarts. */
public interface DeploymentStore {

    /**
     * @throws DeploymentStoreException if the file exists but cannot be read or parsed
     */
    Optional<DeploymentRecord> load(String model);

    /**
     * Writes {@code record}, replacing the model's previous one; returns once it is durable. A store that keeps an
     * audit trail records each revision new in {@code record} with its actor (the revision's) acting as
     * {@code actorRole}, in the same write.
     *
     * @throws DeploymentStoreException if it cannot be written
     */
    void save(DeploymentRecord record, String actorRole);

    /**
     * Every stored record, sorted by model name.
     *
     * @throws DeploymentStoreException if any file cannot be read or parsed
     */
    List<DeploymentRecord> loadAll();
}
