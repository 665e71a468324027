package dev.gantry.bench.oip;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository's {@code models/} directory for benchmarks started from the repository root. */
public final class ModelDirs {
    /** System property that overrides where the model repository is. */
    public static final String PROPERTY = "gantry.models";

    private ModelDirs() {
    }

    /** {@code -Dgantry.models}, else {@code models} under the working directory. */
    public static Path repository() {
        Path dir = Path.of(System.getProperty(PROPERTY, "models")).toAbsolutePath();
        if (!Files.isDirectory(dir.resolve("mlp"))) {
            throw new IllegalStateException("no model repository at " + dir + " (expected " + dir.resolve("mlp")
                    + "); run from the repository root or pass -D" + PROPERTY + "=/path/to/models");
        }
        return dir;
    }

    /** The directory of version 1 of {@code model}. */
    public static Path version1(Path repository, String model) {
        return repository.resolve(model).resolve("1");
    }
}
