package dev.gantry.core.text;

import dev.gantry.core.model.ModelId;
import dev.gantry.core.routing.RouteKind;

import java.util.List;

/**
 * The vectors of one embeddings call, in input order.
 *
 * @param model        the version that computed them
 * @param vectors      one vector per input
 * @param promptTokens the tokens of all inputs, special tokens included
 * @param kind         how the version was chosen
 */
public record EmbeddingResult(ModelId model, List<float[]> vectors, long promptTokens, RouteKind kind) {
    public EmbeddingResult {
        vectors = List.copyOf(vectors);
    }
}
