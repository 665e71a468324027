package dev.gantry.core.scheduling;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelSignature;

import java.util.List;
import java.util.Set;

/**
 * Runs one model instance on a set of input tensors. Called from one scheduler thread at a time per
 * instance; implementations need not be thread-safe.
 */
public interface ModelExecutor extends AutoCloseable {
    ModelSignature signature();

    /**
     * Runs the model. {@code outputs} names the outputs to compute; empty means all.
     *
     * @throws dev.gantry.core.error.GantryException when the inputs are unacceptable or the engine fails
     */
    List<Tensor> run(List<Tensor> inputs, Set<String> outputs);

    @Override
    void close();
}
