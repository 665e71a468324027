package dev.gantry.core.sandbox;

import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.file.Path;
import java.util.Optional;

/** Runs an artifact's first execution (load, warm-up, smoke inference, invariance check) where a crash is harmless. */
public interface Sandbox {

    /**
     * Empty when the version's artifact has run safely in the sandbox, now or at an earlier start; otherwise why
     * it must not run in this process ("crashed the validation process: SIGFPE during warm-up ...").
     */
    Optional<String> firstRun(ModelEntry entry, ModelVersionEntry version);

    /** No sandbox: every artifact runs in this process from the start. */
    static Sandbox off() {
        return (entry, version) -> Optional.empty();
    }

    /**
     * A sandbox JVM per artifact (same java binary and class path as this process, at most two at a time),
     * whose verdicts are remembered by the artifact's SHA-256 in {@code verdictDir}; crash reports go to
     * {@code <dataDir>/crash}.
     */
    static Sandbox childProcess(Path dataDir, Path verdictDir, LifecycleSettings settings, MeterRegistry registry) {
        return new ChildProcessSandbox(dataDir, verdictDir, settings, registry);
    }
}
