package dev.gantry.core.metrics;

import dev.gantry.core.model.ModelId;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-version counters: windows are differences of snapshots, percentiles at most one bucket (25%) high. */
class VersionStatsTest {
    static final ModelId V1 = new ModelId("m", 1);

    @Test
    void window_isTheDifferenceOfTwoSnapshots() {
        VersionStats s = new VersionStats();
        s.record(V1, false, 1_000_000);
        VersionStats.Counts start = s.counts(V1);
        s.record(V1, true, 1_000_000);
        s.record(V1, false, 1_000_000);
        s.recordComparison(V1, false);
        VersionStats.Counts w = s.counts(V1).minus(start);
        assertEquals(2, w.requests());
        assertEquals(1, w.errors());
        assertEquals(1, w.compared());
        assertEquals(0, w.agreed());
    }

    @Test
    void percentile_isTheUpperEdgeOfItsBucket_atMostOneQuarterHigh() {
        VersionStats s = new VersionStats();
        for (int i = 1; i <= 100; i++) {
            s.record(V1, false, i * 1_000_000L);
        }
        double p50 = s.counts(V1).percentileMillis(0.5);
        double p99 = s.counts(V1).percentileMillis(0.99);
        assertTrue(p50 >= 50 && p50 <= 50 * 1.25 * 1.25, "p50 " + p50);
        assertTrue(p99 >= 99 && p99 <= 100 * 1.25 * 1.25, "p99 " + p99);
    }

    @Test
    void openedVersion_isAllZero_andCountsItsRequestsAfterwards() {
        VersionStats s = new VersionStats();
        s.open(V1);
        s.open(V1);
        assertEquals(0, s.counts(V1).requests());
        assertEquals(0, s.counts(V1).offered());

        s.offer(V1);
        s.record(V1, false, 1_000_000);
        assertEquals(1, s.counts(V1).offered());
        assertEquals(1, s.counts(V1).requests());
    }

    @Test
    void unknownVersion_isAllZero() {
        assertEquals(0, new VersionStats().counts(V1).requests());
        assertEquals(0.0, new VersionStats().counts(V1).percentileMillis(0.99));
    }
}
