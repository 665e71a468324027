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
 * @param releaser gives the body's pooled memory back (see {@link #release()}); does nothing for a heap body
 */
public record EncodedResponse(Buffer body, OptionalLong headerLength, Runnable releaser) {
    /** The releaser of a heap body: nothing to give back. */
    static final Runnable HEAP = () -> { };

    public EncodedResponse {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headerLength, "headerLength");
        Objects.requireNonNull(releaser, "releaser");
    }

    /** A response whose body is on the heap: nothing to release. */
    public EncodedResponse(Buffer body, OptionalLong headerLength) {
        this(body, headerLength, HEAP);
    }

    /**
     * Gives the body's memory back when it is pooled. Call it once, after the body was written to the connection
     * (its write completed or failed) or dropped; the body must not be read after it.
     */
    public void release() {
        releaser.run();
    }

    /** Whether the body's memory is pooled, so that {@link #release()} must follow its write. */
    public boolean pooled() {
        return releaser != HEAP;
    }
}
