package dev.gantry.store.repository;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A model directory as found on disk.
 *
 * @param name      the directory name
 * @param directory the model directory
 * @param config    its configuration; {@link ModelConfig#defaults()} when the configuration could not be read
 * @param versions  the version directories that hold a model file, sorted ascending
 * @param problems  what was wrong on disk, for operators: bad version directory names, missing model files,
 *                  and a problem starting with {@link #CONFIG_FAILED} if the configuration could not be read
 */
public record ModelEntry(String name, Path directory, ModelConfig config, List<ModelVersionEntry> versions,
                         List<String> problems) {

    /** How the problem reporting an unreadable or invalid configuration starts. */
    public static final String CONFIG_FAILED = "config failed: ";

    public ModelEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(config, "config");
        versions = versions.stream().sorted(Comparator.comparingLong(ModelVersionEntry::version)).toList();
        problems = List.copyOf(problems);
    }

    /** The versions the version policy selects. */
    public List<ModelVersionEntry> versionsToLoad() {
        Set<Long> selected = Set.copyOf(config.versionPolicy()
                .select(versions.stream().map(ModelVersionEntry::version).toList()));
        return versions.stream().filter(v -> selected.contains(v.version())).toList();
    }

    /** Why the configuration could not be used, if it could not; such a model cannot be served. */
    public Optional<String> configFailure() {
        return problems.stream().filter(p -> p.startsWith(CONFIG_FAILED)).findFirst();
    }
}
