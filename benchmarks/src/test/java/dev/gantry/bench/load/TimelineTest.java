package dev.gantry.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimelineTest {
    private static final long MS = 1_000_000;

    @Test
    void slowest_ordersSlicesByTheirSlowestRequest_withEachSlicesCountAndMean() {
        Timeline t = new Timeline(Duration.ofSeconds(1), Duration.ofMillis(100));
        long start = 5_000 * MS;
        t.begin(start);
        t.record(start + 10 * MS, 1_000);
        t.record(start + 20 * MS, 3_000);
        t.record(start + 350 * MS, 40_000);
        t.record(start + 730 * MS, 9_000);

        assertEquals(List.of(new Timeline.Slice(0.3, 1, 40.0, 40.0), new Timeline.Slice(0.7, 1, 9.0, 9.0)),
                t.slowest(2));
        assertEquals(new Timeline.Slice(0.0, 2, 2.0, 3.0), t.slowest(3).get(2));
        assertEquals(3, t.slowest(10).size(), "slices nobody was due in are left out");
    }

    @Test
    void record_dueBeforeTheStartOrAfterTheWindow_countsInTheFirstOrLastSlice() {
        Timeline t = new Timeline(Duration.ofMillis(250), Duration.ofMillis(100));
        t.begin(1_000 * MS);
        t.record(999 * MS, 7_000);
        t.record(1_000 * MS + 900 * MS, 5_000);

        assertEquals(List.of(new Timeline.Slice(0.0, 1, 7.0, 7.0), new Timeline.Slice(0.2, 1, 5.0, 5.0)),
                t.slowest(5));
    }

    @Test
    void slice_mustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new Timeline(Duration.ofSeconds(1), Duration.ZERO));
    }
}
