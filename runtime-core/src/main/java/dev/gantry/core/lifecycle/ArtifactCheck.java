package dev.gantry.core.lifecycle;

import dev.gantry.core.model.ModelId;

import java.nio.file.Path;
import java.util.Optional;

/** Decides, just before a version is loaded, whether its files may be loaded at all (for instance, are unchanged). */
@FunctionalInterface
public interface ArtifactCheck {
    /** Lets every version load. */
    ArtifactCheck NONE = (id, modelFile) -> Optional.empty();

    /**
     * @param modelFile the file ONNX Runtime is about to load
     * @return empty when the version may load, else why not (it becomes UNAVAILABLE with that reason)
     */
    Optional<String> refusal(ModelId id, Path modelFile);
}
