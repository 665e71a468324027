package dev.gantry.core.repository;

import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.store.repository.ModelVersionEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/** Knows what the model repository on disk holds and asks the lifecycle to load what its version policies select. */
public final class ModelRepositoryManager {
    private static final Logger log = LoggerFactory.getLogger(ModelRepositoryManager.class);

    private final ModelRepository repository;
    private final ModelLifecycle lifecycle;
    private final AtomicReference<Map<String, ModelEntry>> entries = new AtomicReference<>(Map.of());

    public ModelRepositoryManager(ModelRepository repository, ModelLifecycle lifecycle) {
        this.repository = repository;
        this.lifecycle = lifecycle;
    }

    /** Scans the repository and loads every selected version; completes when all have settled. */
    public CompletableFuture<Void> loadAll() {
        List<ModelEntry> scanned = repository.scan();
        Map<String, ModelEntry> byName = new LinkedHashMap<>();
        List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
        for (ModelEntry e : scanned) {
            byName.put(e.name(), e);
            for (String p : e.problems()) {
                log.warn("model '{}': {}", e.name(), p);
            }
            for (ModelVersionEntry v : e.versionsToLoad()) {
                loads.add(lifecycle.load(e, v));
            }
        }
        entries.set(Collections.unmodifiableMap(byName));
        log.info("model repository {}: {} models, {} versions to load", repository.root(), byName.size(), loads.size());
        return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
    }

    /** The models found by the last scan, by name. */
    public Map<String, ModelEntry> models() {
        return entries.get();
    }

    public Optional<ModelEntry> model(String name) {
        return Optional.ofNullable(entries.get().get(name));
    }

    /**
     * Reads model {@code name} from disk again (new version directories become visible) and remembers the
     * result; empty, and forgotten, when the model directory is gone.
     */
    public Optional<ModelEntry> refresh(String name) {
        Optional<ModelEntry> found = repository.find(name);
        entries.updateAndGet(m -> {
            Map<String, ModelEntry> next = new LinkedHashMap<>(m);
            found.ifPresentOrElse(e -> next.put(name, e), () -> next.remove(name));
            return Collections.unmodifiableMap(next);
        });
        return found;
    }

    /** Brings a version missing from the local repository in from elsewhere (a shared artifact store). */
    @FunctionalInterface
    public interface MissingVersions {
        MissingVersions NONE = (model, version) -> CompletableFuture.completedFuture(false);

        /**
         * Completes true when the version is on disk now, false when no source has it, exceptionally with the
         * reason a source's copy was refused or could not be read.
         */
        CompletableFuture<Boolean> fetch(String model, long version);
    }

    private volatile MissingVersions missing = MissingVersions.NONE;

    /** Where versions missing on disk are fetched from when a load asks for one. */
    public void fetchMissingFrom(MissingVersions source) {
        this.missing = java.util.Objects.requireNonNull(source, "source");
    }

    /** Fetches {@code model}/{@code version} into the repository if a source has it; true when it is there now. */
    public CompletableFuture<Boolean> fetchMissing(String model, long version) {
        return missing.fetch(model, version);
    }

    public ModelLifecycle lifecycle() {
        return lifecycle;
    }
}
