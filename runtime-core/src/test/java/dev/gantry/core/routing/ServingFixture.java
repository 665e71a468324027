package dev.gantry.core.routing;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.store.repository.ModelRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real lifecycle, repository manager and deployment manager over a model repository in a temp directory,
 * with {@link RecordingExecutor}s instead of ONNX Runtime. Loads run on the calling thread.
 */
final class ServingFixture implements AutoCloseable {
    static final String MODEL = "m";

    final Path models;
    final Path data;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final CountingFactory factory = new CountingFactory();
    final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    final ModelLifecycle lifecycle;
    final ModelRepositoryManager repository;
    final DeploymentManager deployments;
    final dev.gantry.store.catalog.CatalogStore catalog;
    static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);
    final Clock clock = CLOCK;

    /** Counts loads and keeps the executor of each version (the latest one loaded). */
    static final class CountingFactory implements ExecutorFactory {
        final AtomicInteger loads = new AtomicInteger();
        final Map<Long, RecordingExecutor> executors = new ConcurrentHashMap<>();

        @Override
        public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
            loads.incrementAndGet();
            RecordingExecutor e = new RecordingExecutor();
            executors.put(Long.parseLong(versionDir.getFileName().toString()), e);
            return e;
        }
    }

    ServingFixture(Path root, int standbyCount, long... versions) {
        this(root, dev.gantry.store.catalog.CatalogStore.h2(root.resolve("data"), CLOCK), standbyCount, versions);
    }

    /** As above, over {@code catalog} (closed with the fixture) instead of an H2 catalogue in the data directory. */
    ServingFixture(Path root, dev.gantry.store.catalog.CatalogStore catalog, int standbyCount, long... versions) {
        this.models = root.resolve("models");
        this.data = root.resolve("data");
        for (long v : versions) {
            addVersion(v);
        }
        lifecycle = new ModelLifecycle(new LifecycleSettings(ExecutionSettings.cpuDefaults(), 64, Duration.ofSeconds(10),
                false, Duration.ZERO), registry, factory, Runnable::run, timers);
        repository = new ModelRepositoryManager(ModelRepository.onDisk(models), lifecycle);
        this.catalog = catalog;
        deployments = DeploymentManager.create(repository, dev.gantry.store.catalog.DeploymentArchive.in(catalog),
                new DeploymentSettings(standbyCount, 100), clock, registry);
    }

    /** Puts version {@code v} on disk. */
    void addVersion(long v) {
        try {
            Path dir = models.resolve(MODEL).resolve(Long.toString(v));
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.onnx"), new byte[] {0});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads what the version policy selects, then restores deployments: what the server does at start. */
    ServingFixture start() {
        repository.loadAll().join();
        deployments.restore().join();
        return this;
    }

    RecordingExecutor executor(long version) {
        return factory.executors.get(version);
    }

    @Override
    public void close() {
        factory.executors.values().forEach(RecordingExecutor::releaseRuns);
        lifecycle.close();
        timers.shutdownNow();
        catalog.close();
    }
}
