package dev.gantry.store.deployment;

/**
 * A primary route of a traffic policy: unversioned requests go to {@code version} in proportion to
 * {@code weight}. A weight of 0 keeps the version in the policy without sending it traffic.
 */
public record Route(long version, int weight) {
    public Route {
        if (version < 1) {
            throw new IllegalArgumentException("route version must be >= 1, was " + version);
        }
        if (weight < 0) {
            throw new IllegalArgumentException("route weight must be >= 0, was " + weight);
        }
    }
}
