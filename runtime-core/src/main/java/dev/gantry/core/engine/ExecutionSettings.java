package dev.gantry.core.engine;

import java.util.OptionalInt;

/**
 * How ONNX Runtime runs one model instance: its thread pools, device and memory.
 *
 * @param intraOpThreads threads one operator may use (ORT's intra-op pool)
 * @param interOpThreads threads for running independent graph nodes in parallel (1 = sequential)
 * @param allowSpinning whether idle intra-op threads spin-wait for work instead of sleeping
 * @param gpuDevice the CUDA device to run on, or empty for the CPU
 * @param memory how ORT keeps the CPU memory of intermediate and output tensors between runs
 */
public record ExecutionSettings(int intraOpThreads, int interOpThreads, boolean allowSpinning, OptionalInt gpuDevice,
                                OrtMemory memory) {
    /**
     * The default memory mode, {@link OrtMemory#ARENA}, ORT's own: shrinking cost MiniLM seq 16 throughput in process
     * (0.86x, quiet machine) and did not lower resident memory at the end of the standard run (README
     * "Performance": ORT memory).
     */
    public static final OrtMemory DEFAULT_MEMORY = OrtMemory.ARENA;

    public ExecutionSettings {
        java.util.Objects.requireNonNull(memory, "memory");
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intra-op threads must be >= 1, was " + intraOpThreads);
        }
        if (interOpThreads < 1) {
            throw new IllegalArgumentException("inter-op threads must be >= 1, was " + interOpThreads);
        }
    }

    /** Settings with the {@link #DEFAULT_MEMORY default memory mode}. */
    public ExecutionSettings(int intraOpThreads, int interOpThreads, boolean allowSpinning, OptionalInt gpuDevice) {
        this(intraOpThreads, interOpThreads, allowSpinning, gpuDevice, DEFAULT_MEMORY);
    }

    /*
     * Defaults, measured on the 2-core machine the project is developed on (see README "ORT threading"):
     * one intra-op thread per instance and no spinning. With the scheduler already running one thread per
     * instance, more intra-op threads on 2 cores made the batched MLP slower (threads fight the HTTP
     * event loop), and spinning burned a core while idle for no latency gain under load.
     */
    public static ExecutionSettings cpuDefaults() {
        return new ExecutionSettings(1, 1, false, OptionalInt.empty());
    }

    public ExecutionSettings onGpu(int device) {
        return new ExecutionSettings(intraOpThreads, interOpThreads, allowSpinning, OptionalInt.of(device), memory);
    }

    public ExecutionSettings withMemory(OrtMemory m) {
        return new ExecutionSettings(intraOpThreads, interOpThreads, allowSpinning, gpuDevice, m);
    }
}
