package dev.gantry.http.metrics;

import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Instant;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One model version's statistics in Triton's terms, read from the same meters as {@code /metrics}, so the
 * statistics extension (gRPC ModelStatistics, HTTP {@code /stats}) and the scrape never disagree.
 *
 * @param inferenceCount rows inferred (a batch of 8 rows counts 8), Triton's inference_count
 * @param executionCount model executions (one per batch), Triton's execution_count
 * @param success requests answered, and their time from admission to answer
 * @param fail requests that failed after admission, and their time
 * @param queue time from admission to the start of the execution, per request
 * @param computeInfer model executions and their duration
 */
public record ModelStatistics(ModelId id, Optional<Instant> lastInference, long inferenceCount, long executionCount,
                              Duration success, Duration fail, Duration queue, Duration computeInfer) {
    /** A count and the total nanoseconds those events took. */
    public record Duration(long count, long nanos) {
        static final Duration NONE = new Duration(0, 0);

        static Duration of(Timer t) {
            return t == null ? NONE : new Duration(t.count(), (long) t.totalTime(TimeUnit.NANOSECONDS));
        }

        static Duration sum(Collection<Timer> timers) {
            long count = 0;
            long nanos = 0;
            for (Timer t : timers) {
                count += t.count();
                nanos += (long) t.totalTime(TimeUnit.NANOSECONDS);
            }
            return new Duration(count, nanos);
        }
    }

    /** Reads {@code id}'s meters from {@code registry}; zeros for a version that has not served yet. */
    public static ModelStatistics read(MeterRegistry registry, ModelId id, Optional<Instant> lastInference) {
        String[] tags = {"model", id.name(), "version", Long.toString(id.version())};
        String request = MetricNames.INFERENCE_REQUEST_DURATION.meterName();
        Duration success = Duration.of(registry.find(request).tags(tags).tag("outcome", "success").timer());
        Duration fail = Duration.sum(registry.find(request).tags(tags).tag("outcome", "error").timers());
        Duration queue = Duration.of(registry.find(MetricNames.INFERENCE_QUEUE_DURATION.meterName()).tags(tags)
                .timer());
        Duration compute = Duration.of(registry.find(MetricNames.INFERENCE_COMPUTE_DURATION.meterName()).tags(tags)
                .timer());
        DistributionSummary rows = registry.find(MetricNames.INFERENCE_BATCH_SIZE.meterName()).tags(tags).summary();
        long inferences = rows == null ? 0 : (long) rows.totalAmount();
        return new ModelStatistics(id, lastInference, inferences, compute.count(), success, fail, queue, compute);
    }
}
