package dev.gantry.store.deployment;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * How a model's unversioned requests are split between its versions: weighted primary routes, optional shadow
 * routes and an optional named fallback (the version that retries a request the chosen version failed; without
 * one the router picks the other primary route with the largest weight, else the first standby). Validated when
 * built.
 */
public record TrafficPolicy(List<Route> routes, List<ShadowRoute> shadow, OptionalLong fallback) {
    public TrafficPolicy {
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(shadow, "shadow");
        Objects.requireNonNull(fallback, "fallback");
        if (fallback.isPresent() && fallback.getAsLong() < 1) {
            throw new IllegalArgumentException("fallback must be a version >= 1, was " + fallback.getAsLong());
        }
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("routes must hold at least one route, was []");
        }
        Set<Long> versions = new HashSet<>();
        long total = 0;
        for (int i = 0; i < routes.size(); i++) {
            Route r = Objects.requireNonNull(routes.get(i), "routes[" + i + "]");
            if (!versions.add(r.version())) {
                throw new IllegalArgumentException("routes[" + i + "].version " + r.version()
                        + " appears more than once");
            }
            total += r.weight();
        }
        if (total == 0) {
            throw new IllegalArgumentException("routes weights must not all be 0, were " + routes.stream()
                    .map(Route::weight).toList());
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("routes weights must sum to at most " + Integer.MAX_VALUE
                    + ", was " + total);
        }
        Set<Long> shadows = new HashSet<>();
        for (int i = 0; i < shadow.size(); i++) {
            ShadowRoute s = Objects.requireNonNull(shadow.get(i), "shadow[" + i + "]");
            if (versions.contains(s.version())) {
                throw new IllegalArgumentException("shadow[" + i + "].version " + s.version()
                        + " is also a primary route; a version is either primary or shadow");
            }
            if (!shadows.add(s.version())) {
                throw new IllegalArgumentException("shadow[" + i + "].version " + s.version()
                        + " appears more than once");
            }
        }
        if (fallback.isPresent() && shadows.contains(fallback.getAsLong())) {
            throw new IllegalArgumentException("fallback " + fallback.getAsLong() + " is a shadow route; a fallback"
                    + " answers clients, so it must be a version that may take primary traffic");
        }
        routes = List.copyOf(routes);
        shadow = List.copyOf(shadow);
    }

    /** A policy without a named fallback. */
    public TrafficPolicy(List<Route> routes, List<ShadowRoute> shadow) {
        this(routes, shadow, OptionalLong.empty());
    }

    /**
     * Builds a policy from raw numbers, naming the offending field and value ({@code routes[1].weight must be
     * >= 0, was -3}) where the record constructors could not know the index.
     */
    public static TrafficPolicy of(List<Route> routes, List<ShadowRoute> shadow) {
        return new TrafficPolicy(routes, shadow);
    }

    /** Checks one route's raw fields; for decoders that build routes from untrusted input. */
    public static Route route(int index, long version, long weight) {
        if (version < 1) {
            throw new IllegalArgumentException("routes[" + index + "].version must be >= 1, was " + version);
        }
        if (weight < 0) {
            throw new IllegalArgumentException("routes[" + index + "].weight must be >= 0, was " + weight);
        }
        if (weight > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("routes[" + index + "].weight must be <= " + Integer.MAX_VALUE
                    + ", was " + weight);
        }
        return new Route(version, (int) weight);
    }

    /** Checks one shadow route's raw fields; for decoders that build routes from untrusted input. */
    public static ShadowRoute shadowRoute(int index, long version, long percent) {
        if (version < 1) {
            throw new IllegalArgumentException("shadow[" + index + "].version must be >= 1, was " + version);
        }
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("shadow[" + index + "].percent must be in 1..100, was " + percent);
        }
        return new ShadowRoute(version, (int) percent);
    }

    /** As {@link #of(List, List)}, naming the fallback version. */
    public static TrafficPolicy of(List<Route> routes, List<ShadowRoute> shadow, OptionalLong fallback) {
        return new TrafficPolicy(routes, shadow, fallback);
    }

    /** This policy with {@code version} as its named fallback (none when empty). */
    public TrafficPolicy withFallback(OptionalLong version) {
        return new TrafficPolicy(routes, shadow, version);
    }

    /**
     * Versions that must stay loaded while this policy is in force: those it routes ({@link #routedVersions()})
     * and its named fallback.
     */
    public Set<Long> servedVersions() {
        Set<Long> out = routedVersions();
        fallback.ifPresent(out::add);
        return out;
    }

    /** All traffic to one version. */
    public static TrafficPolicy single(long version) {
        return new TrafficPolicy(List.of(new Route(version, 100)), List.of());
    }

    /** The weight of {@code version}'s primary route, if it has one. */
    public OptionalInt weightOf(long version) {
        for (Route r : routes) {
            if (r.version() == version) {
                return OptionalInt.of(r.weight());
            }
        }
        return OptionalInt.empty();
    }

    /** Versions that receive requests: primary routes with a positive weight, then shadow routes. */
    public Set<Long> routedVersions() {
        Set<Long> out = new LinkedHashSet<>();
        for (Route r : routes) {
            if (r.weight() > 0) {
                out.add(r.version());
            }
        }
        for (ShadowRoute s : shadow) {
            out.add(s.version());
        }
        return out;
    }

    /** True when {@code version} receives requests under this policy, as primary (weight > 0) or shadow. */
    public boolean routes(long version) {
        return routedVersions().contains(version);
    }
}
