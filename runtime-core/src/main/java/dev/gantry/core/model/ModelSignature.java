package dev.gantry.core.model;

import java.util.List;
import java.util.Optional;

/** The inputs and outputs a model declares, read from the model file itself. */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Optional<TensorSpec> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    public Optional<TensorSpec> output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** True when every input and output has a dynamic first dimension: rows can be stacked along it. */
    public boolean firstDimensionIsDynamic() {
        return !inputs.isEmpty()
                && inputs.stream().allMatch(t -> t.rank() >= 1 && t.dim(0) == -1)
                && outputs.stream().allMatch(t -> t.rank() >= 1 && t.dim(0) == -1);
    }
}
