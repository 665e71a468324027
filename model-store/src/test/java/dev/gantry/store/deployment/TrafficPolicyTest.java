package dev.gantry.store.deployment;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrafficPolicyTest {
    private static String refusal(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void route_withNegativeWeight_isRefusedNamingIndexAndValue() {
        assertEquals("routes[1].weight must be >= 0, was -3", refusal(() -> TrafficPolicy.route(1, 2, -3)));
    }

    @Test
    void policy_withoutRoutes_isRefused() {
        assertEquals("routes must hold at least one route, was []",
                refusal(() -> new TrafficPolicy(List.of(), List.of())));
    }

    @Test
    void policy_withAllWeightsZero_isRefused() {
        assertEquals("routes weights must not all be 0, were [0, 0]",
                refusal(() -> new TrafficPolicy(List.of(new Route(1, 0), new Route(2, 0)), List.of())));
    }

    @Test
    void policy_withDuplicateVersion_isRefused() {
        assertEquals("routes[1].version 1 appears more than once",
                refusal(() -> new TrafficPolicy(List.of(new Route(1, 5), new Route(1, 5)), List.of())));
    }

    @Test
    void shadow_thatIsAlsoPrimary_isRefused() {
        assertEquals("shadow[0].version 1 is also a primary route; a version is either primary or shadow",
                refusal(() -> new TrafficPolicy(List.of(new Route(1, 5)), List.of(new ShadowRoute(1, 10)))));
    }

    @Test
    void shadowPercent_outsideOneToHundred_isRefused() {
        assertEquals("shadow[0].percent must be in 1..100, was 0", refusal(() -> TrafficPolicy.shadowRoute(0, 2, 0)));
        assertEquals("shadow[2].percent must be in 1..100, was 101",
                refusal(() -> TrafficPolicy.shadowRoute(2, 2, 101)));
    }

    @Test
    void routedVersions_excludeZeroWeightAndIncludeShadows() {
        TrafficPolicy p = new TrafficPolicy(List.of(new Route(1, 0), new Route(2, 10)), List.of(new ShadowRoute(3, 5)));
        assertEquals(List.of(2L, 3L), List.copyOf(p.routedVersions()));
    }

    @Test
    void fallback_thatIsAShadowRoute_isRefused() {
        assertEquals("fallback 3 is a shadow route; a fallback answers clients, so it must be a version that may take"
                + " primary traffic", refusal(() -> new TrafficPolicy(List.of(new Route(2, 10)),
                List.of(new ShadowRoute(3, 5)), java.util.OptionalLong.of(3))));
    }

    @Test
    void servedVersions_addTheNamedFallbackToTheRoutedOnes() {
        TrafficPolicy p = new TrafficPolicy(List.of(new Route(2, 10)), List.of(), java.util.OptionalLong.of(1));
        assertEquals(List.of(2L), List.copyOf(p.routedVersions()));
        assertEquals(List.of(2L, 1L), List.copyOf(p.servedVersions()));
    }
}
