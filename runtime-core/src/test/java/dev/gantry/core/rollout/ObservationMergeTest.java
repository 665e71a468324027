package dev.gantry.core.rollout;

import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.model.ModelId;
import dev.gantry.store.rollout.RolloutObservation;
import dev.gantry.store.rollout.RolloutObservation.Side;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Summing what several servers saw of one step: every counter and latency bucket adds up, the percentiles of the
 * sum are those of all the requests as one server would have measured them, and this server's own row is left
 * out (it counts its live window instead).
 */
class ObservationMergeTest {
    static final ModelId V = new ModelId("m", 1);

    static RolloutObservation row(String replica, Side side, VersionStats.Counts n) {
        return new RolloutObservation("ro-1", 0, replica, side, n.offered(), n.requests(), n.errors(), n.compared(),
                n.agreed(), n.latency());
    }

    static VersionStats.Counts served(int fast, int slow, int errors) {
        VersionStats s = new VersionStats();
        for (int i = 0; i < fast; i++) {
            s.offer(V);
            s.record(V, i < errors, 1_000_000); // 1 ms
        }
        for (int i = 0; i < slow; i++) {
            s.offer(V);
            s.record(V, false, 80_000_000); // 80 ms
        }
        s.recordComparison(V, true);
        return s.counts(V);
    }

    @Test
    void merge_sumsEveryCounterAndBucket_soPercentilesAreThoseOfAllRequestsTogether() {
        VersionStats.Counts x = served(95, 0, 3);
        VersionStats.Counts y = served(0, 5, 0);
        VersionStats.Counts z = served(98, 2, 1);
        ObservationSync.Merged m = ObservationSync.merge(List.of(row("a", Side.CANDIDATE, x),
                row("b", Side.CANDIDATE, y), row("b", Side.BASELINE, z)), "self");

        assertEquals(100, m.candidate().requests());
        assertEquals(100, m.candidate().offered());
        assertEquals(3, m.candidate().errors());
        assertEquals(2, m.candidate().compared());
        assertEquals(2, m.candidate().agreed());
        long[] sum = x.latency().clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += y.latency()[i];
        }
        assertArrayEquals(sum, m.candidate().latency());
        // one server alone: a p99 of 1 ms (x) or 80 ms (y); together 95 fast and 5 slow: p50 fast, p99 slow
        VersionStats.Counts all = served(95, 5, 3);
        assertEquals(all.percentileMillis(0.5), m.candidate().percentileMillis(0.5));
        assertEquals(all.percentileMillis(0.99), m.candidate().percentileMillis(0.99));
        assertEquals(x.percentileMillis(0.5), m.candidate().percentileMillis(0.5));
        assertEquals(y.percentileMillis(0.99), m.candidate().percentileMillis(0.99));
        assertEquals(z.requests(), m.baseline().requests());
        assertEquals(2, m.replicas());
    }

    @Test
    void merge_leavesOutThisServersOwnRows_andServersThatCountedNothing() {
        VersionStats.Counts x = served(10, 0, 0);
        ObservationSync.Merged m = ObservationSync.merge(List.of(row("self", Side.CANDIDATE, x),
                row("a", Side.CANDIDATE, x), row("idle", Side.BASELINE, VersionStats.Counts.ZERO)), "self");
        assertEquals(10, m.candidate().requests());
        assertEquals(0, m.baseline().requests());
        assertEquals(1, m.replicas());
    }
}
