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

    /**
     * True when the executors run native code that can take the process down (a signal in a kernel): each
     * artifact's first execution then happens in a sandbox process. Fakes in tests answer false.
     */
    default boolean needsSandbox() {
        return false;
    }

    static ExecutorFactory onnxRuntime() {
        return OnnxRuntime.INSTANCE;
    }

    /** The factory of {@link #onnxRuntime()}. */
    enum OnnxRuntime implements ExecutorFactory {
        INSTANCE;

        @Override
        public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
            return OrtModelLoader.load(versionDir, fileName, settings);
        }

        @Override
        public boolean needsSandbox() {
            return true;
        }
    }
}
