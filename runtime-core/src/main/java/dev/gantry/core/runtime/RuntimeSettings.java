package dev.gantry.core.runtime;

import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.lifecycle.LifecycleSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the core of one server is built from.
 *
 * @param modelsDir the model repository, where uploads are installed too
 * @param dataDir where the catalogue database lives
 * @param standbyCount previous primary versions kept loaded per model for instant rollback
 * @param shadowQueueSize shadow requests that may wait; more are dropped (and counted)
 * @param cardPolicy the model card fields each risk tier requires
 * @param unusedAfter how long an approved version may take no traffic before the catalogue flags it
 * @param auditKeyFile the key of the audit chain; empty for {@code <dataDir>/audit.key} (created when absent)
 * @param sandbox run each ONNX artifact's first execution in a sandbox process (native crashes stay there)
 * @param sandboxVerdicts where the sandbox remembers its verdicts; empty for {@code <dataDir>/sandbox}
 * @param fallback per-request fallback and circuit breaking (off unless asked for)
 * @param uploads how many artifact uploads run at once, how long one may stall, how much disk stays free
 * @param catalog the catalogue database: embedded H2 under {@code dataDir} (the default) or a shared PostgreSQL
 * @param sharedArtifacts the S3 bucket that holds every uploaded artifact for all replicas ({@code modelsDir} is
 *     then this replica's cache, filled on demand); empty: the models directory alone
 */
public record RuntimeSettings(Path modelsDir, Path dataDir, LifecycleSettings lifecycle, int standbyCount,
                              int shadowQueueSize, CardPolicy cardPolicy, Duration unusedAfter,
                              Optional<Path> auditKeyFile, boolean sandbox, Optional<Path> sandboxVerdicts,
                              dev.gantry.core.routing.FallbackSettings fallback,
                              dev.gantry.store.artifact.UploadLimits uploads,
                              dev.gantry.store.catalog.CatalogLocation catalog,
                              Optional<dev.gantry.store.artifact.S3Settings> sharedArtifacts) {
    /** With the embedded catalogue and no shared artifact store. */
    public RuntimeSettings(Path modelsDir, Path dataDir, LifecycleSettings lifecycle, int standbyCount,
                           int shadowQueueSize, CardPolicy cardPolicy, Duration unusedAfter,
                           Optional<Path> auditKeyFile, boolean sandbox, Optional<Path> sandboxVerdicts,
                           dev.gantry.core.routing.FallbackSettings fallback,
                           dev.gantry.store.artifact.UploadLimits uploads) {
        this(modelsDir, dataDir, lifecycle, standbyCount, shadowQueueSize, cardPolicy, unusedAfter, auditKeyFile,
                sandbox, sandboxVerdicts, fallback, uploads, dev.gantry.store.catalog.CatalogLocation.embedded(),
                Optional.empty());
    }

    public RuntimeSettings(Path modelsDir, Path dataDir, LifecycleSettings lifecycle, int standbyCount,
                           int shadowQueueSize, CardPolicy cardPolicy, Duration unusedAfter) {
        this(modelsDir, dataDir, lifecycle, standbyCount, shadowQueueSize, cardPolicy, unusedAfter, Optional.empty(),
                false, Optional.empty(), dev.gantry.core.routing.FallbackSettings.OFF,
                dev.gantry.store.artifact.UploadLimits.defaults());
    }

    public RuntimeSettings {
        Objects.requireNonNull(auditKeyFile, "auditKeyFile");
        Objects.requireNonNull(sandboxVerdicts, "sandboxVerdicts");
        Objects.requireNonNull(fallback, "fallback");
        Objects.requireNonNull(uploads, "uploads");
        Objects.requireNonNull(catalog, "catalog");
        Objects.requireNonNull(sharedArtifacts, "sharedArtifacts");
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
