package dev.gantry.store.repository;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The models in a Triton-layout repository: {@code <root>/<model>/<version>/model.onnx}. */
public interface ModelRepository {

    /**
     * A repository read from directory {@code root}.
     *
     * @throws IllegalArgumentException if {@code root} does not exist or is not a directory
     */
    static ModelRepository onDisk(Path root) {
        if (!Files.exists(root)) {
            throw new IllegalArgumentException("model repository " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("model repository " + root + " is not a directory");
        }
        return new DiskModelRepository(root);
    }

    Path root();

    /**
     * Every model directory, sorted by name. Hidden entries and plain files are skipped, as are directories
     * whose name is not a valid model name. One bad model never fails the scan: its entry carries the problems.
     *
     * @throws java.io.UncheckedIOException if the root directory itself cannot be listed
     */
    List<ModelEntry> scan();

    /** The model in directory {@code modelName}, if there is one with a valid name. */
    Optional<ModelEntry> find(String modelName);
}
