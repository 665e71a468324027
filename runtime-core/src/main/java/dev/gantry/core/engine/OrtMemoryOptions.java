package dev.gantry.core.engine;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/** Turns an {@link OrtMemory} mode into ONNX Runtime's session and run options. */
final class OrtMemoryOptions {
    /** ORT's run option that frees the arena chunks a run leaves unused, for the devices it names. */
    static final String SHRINK_ARENAS = "memory.enable_memory_arena_shrinkage";
    /*
     * Why not after every run: a shrink frees the chunks the arena grew by, and the next run allocates and
     * page-faults them again. For a run of a second (MiniLM, 128 tokens, batch 32) that is noise; for the MLP's
     * half-millisecond batches it cost ~7% of the in-process throughput (benchmarks/results/memory-20261130.md).
     * So a run shrinks the arena when the last shrink is at least SHRINK_INTERVAL old: every slow run shrinks,
     * fast ones about five times a second, and what stays after a burst is at most the peak of the runs of its
     * last fifth of a second.
     */
    static final long SHRINK_INTERVAL_NANOS = 200_000_000L;

    private OrtMemoryOptions() {
    }

    /** Sets the session options of {@code mode}: the CPU arena off for {@link OrtMemory#NO_ARENA}. */
    static void apply(OrtSession.SessionOptions options, OrtMemory mode) throws OrtException {
        options.setCPUArenaAllocator(mode != OrtMemory.NO_ARENA);
    }

    /**
     * The options of a run that shrinks the CPU arena afterwards, for {@link OrtMemory#ARENA_SHRINK}; null for the
     * other modes (a GPU session's device arena is left as it is).
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
