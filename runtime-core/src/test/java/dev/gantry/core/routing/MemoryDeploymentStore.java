package dev.gantry.core.routing;

import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.DeploymentStore;
import dev.gantry.store.deployment.DeploymentStoreException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A store in memory that counts saves and can be told to fail them. */
final class MemoryDeploymentStore implements DeploymentStore {
    private final Map<String, DeploymentRecord> records = new TreeMap<>();
    private final AtomicInteger saves = new AtomicInteger();
    private volatile boolean failing;

    void failSaves(boolean fail) {
        failing = fail;
    }

    int saves() {
        return saves.get();
    }

    @Override
    public synchronized Optional<DeploymentRecord> load(String model) {
        return Optional.ofNullable(records.get(model));
    }

    @Override
    public synchronized void save(DeploymentRecord record, String actorRole) {
        if (failing) {
            throw new DeploymentStoreException("disk full");
        }
        saves.incrementAndGet();
        records.put(record.model(), record);
    }

    @Override
    public synchronized List<DeploymentRecord> loadAll() {
        return List.copyOf(records.values());
    }
}
