package dev.gantry.core.lifecycle;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtModelLoader;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.file.Path;

/** Turns a model file into something that runs it; ONNX Runtime through DJL unless a test says otherwise. */
@FunctionalInterface
public interface ExecutorFactory {
    /** @throws dev.gantry.core.error.GantryException with the reason the model cannot be loaded */
    ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings);

    static ExecutorFactory onnxRuntime() {
        return OrtModelLoader::load;
    }
}
