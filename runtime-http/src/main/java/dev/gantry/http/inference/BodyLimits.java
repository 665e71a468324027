package dev.gantry.http.inference;

import java.time.Duration;

/**
 * How much of an inference request body is read, and for how long.
 *
 * @param maxBytes larger bodies get 413
 * @param timeout a body must arrive in full within this long, else 408
 * @param memory the budget every request's body bytes are held under (429 past it)
 */
public record BodyLimits(long maxBytes, Duration timeout, BodyMemory memory) {
}
