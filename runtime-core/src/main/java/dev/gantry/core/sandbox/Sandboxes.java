package dev.gantry.core.sandbox;

import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.core.lifecycle.Sandbox;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.file.Path;

/** The sandboxes Gantry has: a child JVM per artifact. */
public final class Sandboxes {
    private Sandboxes() {
    }

    /**
     * A sandbox JVM per artifact (same java binary and class path as this process, at most two at a time),
     * whose verdicts are remembered by the artifact's SHA-256 in {@code verdictDir}; crash reports go to
     * {@code <dataDir>/crash}.
     */
    public static Sandbox childProcess(Path dataDir, Path verdictDir, LifecycleSettings settings,
                                       MeterRegistry registry) {
        return new ChildProcessSandbox(dataDir, verdictDir, settings, registry);
    }
}
