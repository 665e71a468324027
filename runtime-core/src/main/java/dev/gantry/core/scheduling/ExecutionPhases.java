package dev.gantry.core.scheduling;

/**
 * The parts of one model execution that are not the engine's own work, in nanoseconds: preparing the inputs
 * (stacking a batch's requests, converting them into the engine's tensors) and handing out the outputs (converting
 * them back, splitting them per request). Triton reports them as {@code compute_input} and
 * {@code compute_output}. Filled by one thread, the one running the execution.
 */
public final class ExecutionPhases {
    long inputNanos;
    long outputNanos;

    public void addInput(long nanos) {
        inputNanos += nanos;
    }

    public void addOutput(long nanos) {
        outputNanos += nanos;
    }

    public long inputNanos() {
        return inputNanos;
    }

    public long outputNanos() {
        return outputNanos;
    }
}
