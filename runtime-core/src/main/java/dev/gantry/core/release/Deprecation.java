package dev.gantry.core.release;

import java.time.Instant;
import java.util.Optional;

/** A deprecated version's dates, for the RFC 9745 {@code Deprecation} and RFC 8594 {@code Sunset} headers. */
public record Deprecation(Instant since, Optional<Instant> sunset) {
}
