package dev.gantry.bench.load;

import dev.gantry.bench.oip.OipBodies;
import io.vertx.core.buffer.Buffer;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One HTTP request the load generator sends over and over.
 *
 * @param path the request URI, e.g. {@code /v2/models/mlp/infer}
 * @param body the request body
 * @param headerLength the {@code Inference-Header-Content-Length} to send, or empty for a plain JSON body
 */
public record LoadRequest(String path, Buffer body, OptionalLong headerLength) {
    public LoadRequest {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headerLength, "headerLength");
    }

    /** An OpenAI-style {@code POST /v1/embeddings} of one sentence. */
    public static LoadRequest embeddings(String model, String sentence) {
        com.fasterxml.jackson.databind.node.ObjectNode body = new com.fasterxml.jackson.databind.ObjectMapper()
                .createObjectNode().put("model", model).put("input", sentence);
        return new LoadRequest("/v1/embeddings", Buffer.buffer(body.toString()), OptionalLong.empty());
    }

    /** An OIP inference request for {@code model}. */
    public static LoadRequest infer(String model, OipBodies.Body body) {
        return new LoadRequest("/v2/models/" + model + "/infer", Buffer.buffer(body.bytes()), body.headerLength());
    }
}
