package dev.gantry.core.isolation;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.file.Path;
import java.util.function.BiConsumer;

/** Runs a model version in a worker process of its own ({@code "gantry": {"isolation": "process"}}). */
public interface Isolation {

    /** Whether versions asking for a worker process get one; when false they run in the server's process. */
    boolean available();

    /**
     * An executor whose runs happen in a worker process for {@code versionDir/fileName}, started now.
     *
     * @param signature the model's signature, read by the server when it loaded the model
     */
    ModelExecutor start(ModelId id, Path versionDir, String fileName, ExecutionSettings settings,
                        ModelSignature signature);

    /** No worker processes (tests with fake executors, the sandbox process). */
    static Isolation none() {
        return new Isolation() {
            @Override
            public boolean available() {
                return false;
            }

            @Override
            public ModelExecutor start(ModelId id, Path versionDir, String fileName, ExecutionSettings settings,
                                       ModelSignature signature) {
                throw new UnsupportedOperationException("process isolation is not available");
            }
        };
    }

    /**
     * Worker JVMs with the server's java binary and class path; crash reports go to {@code <dataDir>/crash}.
     * {@code onRepeatedCrashes} hears of a version whose worker crashed {@link IsolatedExecutor#CRASH_LIMIT}
     * times within {@link IsolatedExecutor#CRASH_WINDOW}, with the reason.
     */
    static Isolation workers(Path dataDir, BiConsumer<ModelId, String> onRepeatedCrashes) {
        return new Isolation() {
            @Override
            public boolean available() {
                return true;
            }

            @Override
            public ModelExecutor start(ModelId id, Path versionDir, String fileName, ExecutionSettings settings,
                                       ModelSignature signature) {
                return IsolatedExecutor.start(id, versionDir, fileName, settings, signature, dataDir,
                        onRepeatedCrashes);
            }
        };
    }
}
