package dev.gantry.http.inference;

import dev.gantry.core.inference.InferenceRequest;

import java.util.Objects;

/** A decoded OIP inference request and how its caller wants the outputs encoded. */
public record DecodedRequest(InferenceRequest request, OutputEncoding outputEncoding) {
    public DecodedRequest {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(outputEncoding, "outputEncoding");
    }
}
