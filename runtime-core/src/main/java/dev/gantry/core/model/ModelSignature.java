package dev.gantry.core.model;

import java.util.List;
import java.util.Optional;

/** The inputs and outputs a model declares, read from the model file itself. */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /* Loops, not streams: input() runs for every input of every request (validation, batching). */
    public Optional<TensorSpec> input(String name) {
        return find(inputs, name);
    }

    public Optional<TensorSpec> output(String name) {
        return find(outputs, name);
    }

    private static Optional<TensorSpec> find(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec t = specs.get(i);
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** True when every input and output has a dynamic first dimension: rows can be stacked along it. */
    public boolean firstDimensionIsDynamic() {
        return !inputs.isEmpty()
                && inputs.stream().allMatch(t -> t.rank() >= 1 && t.dim(0) == -1)
                && outputs.stream().allMatch(t -> t.rank() >= 1 && t.dim(0) == -1);
    }
}
