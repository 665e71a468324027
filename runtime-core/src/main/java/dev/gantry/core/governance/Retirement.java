package dev.gantry.core.governance;

import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A deprecated version that reached its sunset and was retired; it must leave every route of its model. */
public record Retirement(String model, long version, Optional<Long> successor) {
    public Retirement {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(successor, "successor");
    }

    /**
     * {@code policy} without the retired version: its weight goes to the successor (added to the successor's
     * route, or as a new route), or, without one, is left to the remaining routes in their proportions. Its
     * shadow route is dropped, and so is its naming as the fallback. Empty when no route with a weight above zero
     * would remain.
     */
    public Optional<TrafficPolicy> rewrite(TrafficPolicy policy) {
        int share = policy.weightOf(version).orElse(0);
        List<Route> routes = new ArrayList<>();
        boolean successorRouted = false;
        for (Route r : policy.routes()) {
            if (r.version() == version) {
                continue;
            }
            if (successor.isPresent() && r.version() == successor.get()) {
                routes.add(new Route(r.version(), r.weight() + share));
                successorRouted = true;
            } else {
                routes.add(r);
            }
        }
        List<ShadowRoute> shadow = new ArrayList<>();
        for (ShadowRoute s : policy.shadow()) {
            if (s.version() != version && (successor.isEmpty() || s.version() != successor.get() || share == 0)) {
                shadow.add(s);
            }
        }
        if (successor.isPresent() && !successorRouted && share > 0) {
            routes.add(new Route(successor.get(), share));
        }
        if (routes.stream().mapToLong(Route::weight).sum() == 0) {
            return Optional.empty();
        }
        return Optional.of(new TrafficPolicy(routes, shadow, policy.fallback().equals(java.util.OptionalLong.of(version))
                ? java.util.OptionalLong.empty() : policy.fallback()));
    }
}
