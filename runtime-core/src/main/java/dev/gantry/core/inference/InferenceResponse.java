package dev.gantry.core.inference;

import dev.gantry.core.model.ModelId;

import java.util.List;
import java.util.Objects;

/** The outputs of one request, and the model version that computed them. */
public record InferenceResponse(ModelId model, String id, List<Tensor> outputs) {
    public InferenceResponse {
        Objects.requireNonNull(model, "model");
        id = id == null ? "" : id;
        outputs = List.copyOf(outputs);
    }
}
