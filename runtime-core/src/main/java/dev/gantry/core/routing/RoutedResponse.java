package dev.gantry.core.routing;

import dev.gantry.core.inference.InferenceResponse;

import java.util.Objects;
import java.util.Optional;

/**
 * A response and how its version was chosen ({@code response.model()} names the version); {@code fallback} says
 * when another version answered because the chosen one failed.
 */
public record RoutedResponse(InferenceResponse response, RouteKind kind, Optional<Fallback> fallback) {
    public RoutedResponse {
        Objects.requireNonNull(fallback, "fallback");
    }

    public RoutedResponse(InferenceResponse response, RouteKind kind) {
        this(response, kind, Optional.empty());
    }

    /**
     * The version that failed first and why: {@code model_error}, {@code timeout}, {@code queue_full},
     * {@code unavailable}, {@code worker_crash}.
     */
    public record Fallback(long fromVersion, String reason) {
        /** The Gantry-Fallback header's value: {@code from=2; reason=timeout}. */
        public String headerValue() {
            return "from=" + fromVersion + "; reason=" + reason;
        }
    }
}
