package dev.gantry.core.routing;

import dev.gantry.core.inference.InferenceResponse;

/** A response and how its version was chosen ({@code response.model()} names the version). */
public record RoutedResponse(InferenceResponse response, RouteKind kind) {
}
