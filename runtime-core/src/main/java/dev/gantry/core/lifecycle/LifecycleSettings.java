package dev.gantry.core.lifecycle;

import dev.gantry.core.engine.ExecutionSettings;

import java.time.Duration;
import java.util.Objects;

/**
 * Server-wide defaults for loading and serving model versions.
 *
 * @param execution ORT threading for models whose config does not set it
 * @param defaultMaxQueueSize queue bound for models whose config does not set max_queue_size
 * @param drainTimeout how long an unloading version may take to answer what it admitted
 * @param batchingEnabled false turns dynamic batching off for every model (the "batching off" benchmark arm)
 * @param requestTimeout queue timeout for requests when neither they nor their model set one, and the longest
 *     one execution may take; zero for no limit
 * @param strictModelConfig true turns config auto-completion off: a model directory without a configuration
 *     file is served with Triton's defaults (no batch dimension, no batching), as it was read
 */
public record LifecycleSettings(ExecutionSettings execution, int defaultMaxQueueSize, Duration drainTimeout,
                                boolean batchingEnabled, Duration requestTimeout, boolean strictModelConfig) {
    public LifecycleSettings {
        Objects.requireNonNull(execution, "execution");
        if (defaultMaxQueueSize < 1) {
            throw new IllegalArgumentException("default max queue size must be >= 1, was " + defaultMaxQueueSize);
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drain timeout must be >= 0, was " + drainTimeout);
        }
    }

    /** Settings with config auto-completion on. */
    public LifecycleSettings(ExecutionSettings execution, int defaultMaxQueueSize, Duration drainTimeout,
                             boolean batchingEnabled, Duration requestTimeout) {
        this(execution, defaultMaxQueueSize, drainTimeout, batchingEnabled, requestTimeout, false);
    }

    public static LifecycleSettings defaults() {
        return new LifecycleSettings(ExecutionSettings.cpuDefaults(), 1024, Duration.ofSeconds(30), true,
                Duration.ofSeconds(60));
    }
}
