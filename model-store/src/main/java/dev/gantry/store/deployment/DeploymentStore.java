package dev.gantry.store.deployment;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Keeps every model's deployment record across restarts. */
public interface DeploymentStore {

    /**
     * A store under {@code <dataDir>/deployments/}, one {@code <model>.json} per model, each replaced
     * atomically so a crash leaves either the old or the new file, never a torn one.
     */
    static DeploymentStore inDirectory(Path dataDir) {
        return new FileDeploymentStore(dataDir.resolve("deployments"));
    }

    /**
     * @throws DeploymentStoreException if the file exists but cannot be read or parsed
     */
    Optional<DeploymentRecord> load(String model);

    /**
     * Writes {@code record}, replacing the model's previous one; returns once it is durable.
     *
     * @throws DeploymentStoreException if it cannot be written
     */
    void save(DeploymentRecord record);

    /**
     * Every stored record, sorted by model name.
     *
     * @throws DeploymentStoreException if any file cannot be read or parsed
     */
    List<DeploymentRecord> loadAll();
}
