package dev.gantry.http.inference;

import io.vertx.core.buffer.Buffer;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * An encoded OIP inference response.
 *
 * @param body the JSON header, followed by the raw bytes of any binary outputs
 * @param headerLength the JSON header's length in bytes when any output is binary (send it as
 *     {@code Inference-Header-Content-Length}); empty when the body is plain JSON
 */
public record EncodedResponse(Buffer body, OptionalLong headerLength) {
    public EncodedResponse {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headerLength, "headerLength");
    }
}
