package dev.gantry.core.governance;

import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RetirementTest {
    private static TrafficPolicy policy(List<Route> routes, List<ShadowRoute> shadow) {
        return new TrafficPolicy(routes, shadow);
    }

    @Test
    void rewrite_givesTheRetiredShareToTheSuccessorsRoute() {
        TrafficPolicy p = policy(List.of(new Route(1, 70), new Route(2, 30)), List.of(new ShadowRoute(3, 10)));
        assertEquals(Optional.of(policy(List.of(new Route(2, 100)), List.of(new ShadowRoute(3, 10)))),
                new Retirement("m", 1, Optional.of(2L)).rewrite(p));
    }

    @Test
    void rewrite_addsARouteForASuccessorNotRouted_promotingItFromShadow() {
        TrafficPolicy p = policy(List.of(new Route(1, 70), new Route(2, 30)), List.of(new ShadowRoute(3, 10)));
        assertEquals(Optional.of(policy(List.of(new Route(2, 30), new Route(3, 70)), List.of())),
                new Retirement("m", 1, Optional.of(3L)).rewrite(p));
    }

    @Test
    void rewrite_withoutSuccessor_leavesTheShareToTheRemainingRoutes() {
        TrafficPolicy p = policy(List.of(new Route(1, 70), new Route(2, 30)), List.of());
        assertEquals(Optional.of(policy(List.of(new Route(2, 30)), List.of())),
                new Retirement("m", 1, Optional.empty()).rewrite(p));
    }

    @Test
    void rewrite_ofTheOnlyRouteWithoutSuccessor_isEmpty() {
        assertEquals(Optional.empty(), new Retirement("m", 1, Optional.empty()).rewrite(TrafficPolicy.single(1)));
    }

    @Test
    void rewrite_dropsTheRetiredShadowRoute() {
        TrafficPolicy p = policy(List.of(new Route(2, 100)), List.of(new ShadowRoute(1, 50)));
        assertEquals(Optional.of(TrafficPolicy.single(2)), new Retirement("m", 1, Optional.of(2L)).rewrite(p));
    }
}
