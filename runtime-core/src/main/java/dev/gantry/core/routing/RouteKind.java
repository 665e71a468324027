package dev.gantry.core.routing;

import java.util.Locale;

/** How a request's version was chosen; the {@code kind} tag of {@code routing.requests}. */
public enum RouteKind {
    /** Unversioned, no routing key: a weighted random choice. */
    WEIGHTED,
    /** Unversioned with a routing key: weighted rendezvous hashing, stable per key. */
    STICKY,
    /** The request named its version. */
    PINNED,
    /** A copy sent to a shadow version after the primary answered. */
    SHADOW;

    public String tagValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
