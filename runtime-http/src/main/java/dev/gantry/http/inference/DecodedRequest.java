package dev.gantry.http.inference;

import dev.gantry.core.inference.InferenceRequest;

import java.util.Objects;

/**
 * A decoded OIP inference request and how its caller wants the outputs returned.
 *
 * @param classification outputs to return as their top-k classes (the classification extension), with their k
 * @param sharedMemoryOutputs outputs to write into shared-memory regions instead of the body
 */
public record DecodedRequest(InferenceRequest request, OutputEncoding outputEncoding,
                             java.util.Map<String, Integer> classification,
                             java.util.Map<String, SharedMemoryRef> sharedMemoryOutputs) {
    public DecodedRequest {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(outputEncoding, "outputEncoding");
        classification = java.util.Map.copyOf(classification);
        sharedMemoryOutputs = java.util.Map.copyOf(sharedMemoryOutputs);
    }

    public DecodedRequest(InferenceRequest request, OutputEncoding outputEncoding) {
        this(request, outputEncoding, java.util.Map.of(), java.util.Map.of());
    }
}
