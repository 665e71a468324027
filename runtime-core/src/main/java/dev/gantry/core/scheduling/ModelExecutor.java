package dev.gantry.core.scheduling;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelSignature;

import java.util.List;
import java.util.Set;

/**
 * Runs one loaded model version on a set of input tensors. One executor serves every instance of its version:
 * the scheduler's {@code instance_group.count} threads call {@link #run} concurrently, so implementations must be
 * thread-safe (ONNX Runtime sessions allow concurrent runs).
 */
public interface ModelExecutor extends AutoCloseable {
    ModelSignature signature();

    /**
     * Runs the model. {@code outputs} names the outputs to compute; empty means all.
     *
     * @throws dev.gantry.core.error.GantryException when the inputs are unacceptable or the engine fails
     */
    List<Tensor> run(List<Tensor> inputs, Set<String> outputs);

    /**
     * As {@link #run(List, Set)}, adding to {@code phases} the time spent converting inputs into the engine's form
     * and outputs out of it, where the executor can tell them apart from the execution (by default it cannot, and
     * adds nothing).
     */
    default List<Tensor> run(List<Tensor> inputs, Set<String> outputs, ExecutionPhases phases) {
        return run(inputs, outputs);
    }

    /**
     * Called once by each thread that will run this executor, before its first run and off the request path.
     * An executor that keeps state per thread creates it here: created on the first run instead, it would take a
     * branch that the compiled request path of the other threads never took, and the JIT would throw that
     * compiled code away (recompiling the scheduler's execution path took 0.5-1.3 s of compiler time, on a
     * one-core server taken from serving).
     */
    default void attachThread() {
    }

    @Override
    void close();
}
