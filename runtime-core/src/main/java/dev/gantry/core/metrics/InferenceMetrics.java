package dev.gantry.core.metrics;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.model.ModelId;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The meters of one model version. Histograms are switched on by the server's MeterFilter, not here. */
public final class InferenceMetrics {
    private final MeterRegistry registry;
    private final Tags tags;
    private final Timer success;
    private final Map<ErrorCode, Timer> failures = new EnumMap<>(ErrorCode.class);
    private final Timer queue;
    private final Timer compute;
    private final DistributionSummary batchRows;
    private final DistributionSummary batchRequests;

    private InferenceMetrics(MeterRegistry registry, ModelId model) {
        this.registry = registry;
        this.tags = Tags.of("model", model.name(), "version", Long.toString(model.version()));
        this.success = Timer.builder(MetricNames.INFERENCE_REQUEST_DURATION.meterName())
                .description("Inference requests from admission to answer")
                .tags(tags).tag("outcome", "success").tag("error", "none").register(registry);
        this.queue = Timer.builder(MetricNames.INFERENCE_QUEUE_DURATION.meterName())
                .description("Time a request waited before its execution started").tags(tags).register(registry);
        this.compute = Timer.builder(MetricNames.INFERENCE_COMPUTE_DURATION.meterName())
                .description("Duration of one model execution (one batch)").tags(tags).register(registry);
        this.batchRows = DistributionSummary.builder(MetricNames.INFERENCE_BATCH_SIZE.meterName())
                .description("Rows per model execution").baseUnit("rows").tags(tags).register(registry);
        this.batchRequests = DistributionSummary.builder(MetricNames.INFERENCE_BATCH_REQUESTS.meterName())
                .description("Requests per model execution").baseUnit("requests").tags(tags).register(registry);
    }

    public static InferenceMetrics register(MeterRegistry registry, ModelId model) {
        return new InferenceMetrics(registry, model);
    }

    /** Meters into a registry nobody reads: for tests and benchmarks. */
    public static InferenceMetrics noop(ModelId model) {
        return new InferenceMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), model);
    }

    public void pendingGauge(Supplier<Number> pending) {
        Gauge.builder(MetricNames.INFERENCE_QUEUE_PENDING.meterName(), pending)
                .description("Requests waiting in the queue").tags(tags).register(registry);
    }

    public void requestSucceeded(long totalNanos) {
        success.record(totalNanos, TimeUnit.NANOSECONDS);
    }

    public void requestFailed(ErrorCode code, long totalNanos) {
        Timer t;
        synchronized (failures) {
            t = failures.computeIfAbsent(code, c -> Timer.builder(MetricNames.INFERENCE_REQUEST_DURATION.meterName())
                    .description("Inference requests from admission to answer")
                    .tags(tags).tag("outcome", "error").tag("error", c.name()).register(registry));
        }
        t.record(totalNanos, TimeUnit.NANOSECONDS);
    }

    public void queued(long queueNanos) {
        queue.record(queueNanos, TimeUnit.NANOSECONDS);
    }

    public void executed(int rows, int requests, long computeNanos) {
        compute.record(computeNanos, TimeUnit.NANOSECONDS);
        batchRows.record(rows);
        batchRequests.record(requests);
    }

    /** Removes this version's meters, when the version is unloaded. */
    public void remove() {
        registry.getMeters().stream()
                .filter(m -> tags.stream().allMatch(t -> t.getValue().equals(m.getId().getTag(t.getKey()))))
                .filter(m -> m.getId().getName().startsWith("inference."))
                .toList()
                .forEach(registry::remove);
    }
}
