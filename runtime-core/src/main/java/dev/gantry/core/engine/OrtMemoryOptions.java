package dev.gantry.core.engine;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/** Turns an {@link OrtMemory} mode into ONNX Runtime's session and run options. */
final class OrtMemoryOptions {
    /** ORT's run option that frees the arena chunks a run leaves unused, for the devices it names. */
    static final String SHRINK_ARENAS = "memory.enable_memory_arena_shrinkage";

    private OrtMemoryOptions() {
    }

    /** Sets the session options of {@code mode}: the CPU arena off for {@link OrtMemory#NO_ARENA}. */
    static void apply(OrtSession.SessionOptions options, OrtMemory mode) throws OrtException {
        options.setCPUArenaAllocator(mode != OrtMemory.NO_ARENA);
    }

    /**
     * The options every run of a session in {@code mode} uses, or null for none: for {@link OrtMemory#ARENA_SHRINK}
     * the CPU arena is shrunk after each run (a GPU session's device arena is left as it is).
     */
    static OrtSession.RunOptions runOptions(OrtMemory mode) throws OrtException {
        if (mode != OrtMemory.ARENA_SHRINK) {
            return null;
        }
        OrtSession.RunOptions run = new OrtSession.RunOptions();
        run.addRunConfigEntry(SHRINK_ARENAS, "cpu:0");
        return run;
    }
}
