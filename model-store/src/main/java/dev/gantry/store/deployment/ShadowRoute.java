package dev.gantry.store.deployment;

/**
 * A shadow route: after the primary answers, {@code percent} percent of requests are also sent to
 * {@code version}, whose answers are compared and discarded.
 */
public record ShadowRoute(long version, int percent) {
    public ShadowRoute {
        if (version < 1) {
            throw new IllegalArgumentException("shadow version must be >= 1, was " + version);
        }
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("shadow percent must be in 1..100, was " + percent);
        }
    }
}
