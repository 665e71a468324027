package dev.gantry.core.text;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One embeddings call as the core sees it.
 *
 * @param model      the model's name
 * @param version    a pinned version, or empty to follow the model's traffic policy
 * @param inputs     at least one input
 * @param truncate   whether text longer than the model's max_tokens is cut (else refused)
 * @param dimensions the vector size the caller expects, if it said
 * @param routingKey the sticky-routing key, if any
 */
public record EmbeddingRequest(String model, OptionalLong version, List<EmbeddingInput> inputs, boolean truncate,
                               OptionalInt dimensions, Optional<String> routingKey) {
    public EmbeddingRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
        inputs = List.copyOf(inputs);
        Objects.requireNonNull(dimensions, "dimensions");
        Objects.requireNonNull(routingKey, "routingKey");
    }
}
