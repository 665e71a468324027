package dev.gantry.core.routing;

import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrafficSplitterTest {
    private static final int PICKS = 20_000;

    private static TrafficPolicy weights(int... w) {
        Route[] routes = new Route[w.length];
        for (int i = 0; i < w.length; i++) {
            routes[i] = new Route(i + 1, w[i]);
        }
        return new TrafficPolicy(List.of(routes), List.of());
    }

    static Stream<Arguments> splits() {
        // critical values of chi-square at p = 0.001
        return Stream.of(Arguments.of(new int[] {90, 10}, 10.828), Arguments.of(new int[] {50, 30, 20}, 13.816));
    }

    @ParameterizedTest
    @MethodSource("splits")
    void pick_followsWeights_chiSquareAtP001(int[] w, double critical) {
        TrafficSplitter s = TrafficSplitter.of(weights(w));
        RandomSource random = RandomSource.of(new SplittableRandom(42));
        Map<Long, Integer> counts = new HashMap<>();
        for (int i = 0; i < PICKS; i++) {
            counts.merge(s.pick(random), 1, Integer::sum);
        }
        assertTrue(chiSquare(counts, w) < critical, "chi-square " + chiSquare(counts, w) + " >= " + critical);
    }

    @ParameterizedTest
    @MethodSource("splits")
    void pickSticky_overManyKeys_followsWeights_chiSquareAtP001(int[] w, double critical) {
        TrafficSplitter s = TrafficSplitter.of(weights(w));
        Map<Long, Integer> counts = new HashMap<>();
        for (int i = 0; i < PICKS; i++) {
            counts.merge(s.pickSticky("user-" + i), 1, Integer::sum);
        }
        assertTrue(chiSquare(counts, w) < critical, "chi-square " + chiSquare(counts, w) + " >= " + critical);
    }

    private static double chiSquare(Map<Long, Integer> counts, int[] w) {
        int total = 0;
        for (int x : w) {
            total += x;
        }
        int n = counts.values().stream().mapToInt(Integer::intValue).sum();
        double chi = 0;
        for (int i = 0; i < w.length; i++) {
            double expected = (double) n * w[i] / total;
            double observed = counts.getOrDefault((long) i + 1, 0);
            chi += (observed - expected) * (observed - expected) / expected;
        }
        return chi;
    }

    @Test
    void pickSticky_sameKey_keepsItsVersionWhileWeightsStay() {
        TrafficSplitter a = TrafficSplitter.of(weights(50, 30, 20));
        TrafficSplitter b = TrafficSplitter.of(weights(50, 30, 20));
        for (int i = 0; i < 10_000; i++) {
            String key = "k" + i;
            long v = a.pickSticky(key);
            assertEquals(v, a.pickSticky(key));
            assertEquals(v, b.pickSticky(key));
        }
    }

    @Test
    void pickSticky_whenWeightsShift90To80_movesAboutTenPercent_allToTheVersionThatGained() {
        TrafficSplitter before = TrafficSplitter.of(weights(90, 10));
        TrafficSplitter after = TrafficSplitter.of(weights(80, 20));
        int moved = 0;
        for (int i = 0; i < PICKS; i++) {
            String key = "session-" + i;
            long was = before.pickSticky(key);
            long now = after.pickSticky(key);
            if (was != now) {
                moved++;
                assertEquals(1, was, key);
                assertEquals(2, now, key);
            }
        }
        double share = (double) moved / PICKS;
        assertTrue(share >= 0.08 && share <= 0.12, "moved " + share);
    }

    @Test
    void zeroWeightRoute_isNeverPicked() {
        TrafficPolicy p = new TrafficPolicy(List.of(new Route(1, 0), new Route(2, 1), new Route(3, 0)), List.of());
        TrafficSplitter s = TrafficSplitter.of(p);
        RandomSource random = RandomSource.of(new SplittableRandom(7));
        for (int i = 0; i < 5_000; i++) {
            assertEquals(2, s.pick(random));
            assertEquals(2, s.pickSticky("k" + i));
        }
    }

    static Stream<int[]> routeCounts() {
        // one route, fewer routes than the padded bounds, exactly as many, one more (no padding), more, and
        // zero-weight routes among them (never picked: no draw falls in an empty slice)
        return Stream.of(new int[] {100}, new int[] {3, 7}, new int[] {1, 2, 3, 4}, new int[] {2, 9, 1, 5, 3},
                new int[] {5, 1, 4, 2, 6, 3}, new int[] {0, 3, 0, 7}, new int[] {4, 0, 0, 1, 0, 2});
    }

    @ParameterizedTest
    @MethodSource("routeCounts")
    void pick_everyDraw_landsInTheSliceThatHoldsIt(int[] w) {
        TrafficSplitter s = TrafficSplitter.of(weights(w));
        int draw = 0;
        for (int route = 0; route < w.length; route++) {
            for (int k = 0; k < w[route]; k++, draw++) {
                long x = draw;
                assertEquals(route + 1, s.pick(bound -> x), "draw " + x + " of weights " + Arrays.toString(w));
            }
        }
    }

    @Test
    void pick_usesTheInjectedRandomness() {
        TrafficSplitter s = TrafficSplitter.of(weights(90, 10));
        assertEquals(1, s.pick(bound -> 0));
        assertEquals(1, s.pick(bound -> 89));
        assertEquals(2, s.pick(bound -> 90));
        assertEquals(2, s.pick(bound -> bound - 1));
    }

    @Test
    void hash_isStableAcrossRuns() {
        // A pinned value: a change to the hash re-routes every sticky key in production.
        assertEquals(TrafficSplitter.hash("user-1", 1), TrafficSplitter.hash("user-1", 1));
        assertNotEquals(TrafficSplitter.hash("user-1", 1), TrafficSplitter.hash("user-1", 2));
        assertNotEquals(TrafficSplitter.hash("user-1", 1), TrafficSplitter.hash("user-2", 1));
        assertEquals(KNOWN_HASH, TrafficSplitter.hash("user-1", 1));
    }

    private static final long KNOWN_HASH = 1783291384034096699L;

    @Test
    void shadowFor_followsPercent() {
        TrafficSplitter s = TrafficSplitter.of(new TrafficPolicy(List.of(new Route(1, 1)),
                List.of(new ShadowRoute(2, 25), new ShadowRoute(3, 100))));
        assertTrue(s.shadowFor(2, bound -> 24));
        assertTrue(!s.shadowFor(2, bound -> 25));
        assertTrue(s.shadowFor(3, bound -> 99));
        assertTrue(!s.shadowFor(1, bound -> 0));
        assertEquals(List.of(2L, 3L), s.shadowVersions());
    }
}
