package dev.gantry.core.runtime;

import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.lifecycle.LifecycleSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the core of one server is built from.
 *
 * @param modelsDir the model repository, where uploads are installed too
 * @param dataDir where the catalogue database lives
 * @param standbyCount previous primary versions kept loaded per model for instant rollback
 * @param shadowQueueSize shadow requests that may wait; more are dropped (and counted)
 * @param cardPolicy the model card fields each risk tier requires
 * @param unusedAfter how long an approved version may take no traffic before the catalogue flags it
 * @param fallback per-request fallback and circuit breaking (off unless asked for)
 */
public record RuntimeSettings(Path modelsDir, Path dataDir, LifecycleSettings lifecycle, int standbyCount,
                              int shadowQueueSize, CardPolicy cardPolicy, Duration unusedAfter,
                              dev.gantry.core.routing.FallbackSettings fallback) {
    /** Without per-request fallback. */
    public RuntimeSettings(Path modelsDir, Path dataDir, LifecycleSettings lifecycle, int standbyCount,
                           int shadowQueueSize, CardPolicy cardPolicy, Duration unusedAfter) {
        this(modelsDir, dataDir, lifecycle, standbyCount, shadowQueueSize, cardPolicy, unusedAfter,
                dev.gantry.core.routing.FallbackSettings.OFF);
    }

    public RuntimeSettings {
        Objects.requireNonNull(fallback, "fallback");
        Objects.requireNonNull(modelsDir, "modelsDir");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(lifecycle, "lifecycle");
        Objects.requireNonNull(cardPolicy, "cardPolicy");
        Objects.requireNonNull(unusedAfter, "unusedAfter");
        if (standbyCount < 0) {
            throw new IllegalArgumentException("standby count must be >= 0, was " + standbyCount);
        }
    }
}
