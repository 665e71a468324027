package dev.gantry.core.release;

import dev.gantry.store.catalog.ReleaseStage;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What installing an uploaded artifact did: whether it created the version or found the same bytes there, what
 * the version holds, what became of a bundled config, and the version's release stage afterwards.
 *
 * @param configNote what happened to a bundle's {@code config.json}, when it had one
 */
public record Installed(String model, long version, String sha256, long sizeBytes, boolean created,
                        List<String> files, Optional<String> configNote, ReleaseStage stage) {
    public Installed {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(sha256, "sha256");
        files = List.copyOf(files);
        Objects.requireNonNull(configNote, "configNote");
        Objects.requireNonNull(stage, "stage");
    }
}
