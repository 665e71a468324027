package dev.gantry.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gantry.core.metrics.ModelStatistics.BatchSize;
import dev.gantry.core.metrics.ModelStatistics.Duration;
import dev.gantry.core.model.ModelId;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceMetricsTest {
    @Test
    void statistics_listEveryBatchSizeExecuted_inOrder_withItsTimes_smallAndLarge() {
        InferenceMetrics m = InferenceMetrics.noop(new ModelId("m", 1));
        // rows, requests, compute, input, output: infer is compute - input - output
        m.executed(200, 2, 1_000, 100, 50);
        m.executed(3, 3, 700, 100, 100);
        m.executed(1, 1, 90, 10, 20);
        m.executed(128, 4, 2_000, 0, 0);
        m.executed(129, 4, 3_000, 300, 200);
        m.executed(3, 1, 500, 0, 100);

        List<BatchSize> batches = m.statistics().batches();

        assertEquals(List.of(
                new BatchSize(1, new Duration(1, 10), new Duration(1, 60), new Duration(1, 20)),
                new BatchSize(3, new Duration(2, 100), new Duration(2, 500 + 400), new Duration(2, 200)),
                new BatchSize(128, new Duration(1, 0), new Duration(1, 2_000), new Duration(1, 0)),
                new BatchSize(129, new Duration(1, 300), new Duration(1, 2_500), new Duration(1, 200)),
                new BatchSize(200, new Duration(1, 100), new Duration(1, 850), new Duration(1, 50))), batches);
    }

    @Test
    void statistics_withoutExecutions_listNoBatchSize() {
        assertEquals(List.of(), InferenceMetrics.noop(new ModelId("m", 1)).statistics().batches());
    }
}
