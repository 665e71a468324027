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
    private final ModelId model;
    private final java.time.Clock clock;
    /* What no meter above keeps: rows of successful requests, per-request compute time, executions per batch
     * size, the time of the last answer. Guarded by `this`; updated once per execution and once per request. */
    private long inferenceCount;
    private long computeRequests;
    private long computeRequestNanos;
    private long inputRequestNanos;
    private long outputRequestNanos;
    private long lastInferenceMillis;
    /*
     * Executions per batch size: count, infer, input and output nanoseconds, four longs per size. Sizes up to
     * SMALL_BATCHES sit in one array made up front, so an execution of a size not seen before adds no map entry:
     * with a map, the insert was a branch the JIT had compiled as a trap once every size was known, and a version
     * taking its first batches at a traffic change set it off on its model thread (hot swap arm,
     * -Xlog:deoptimization, 12-04). Larger sizes go to the map.
     */
    static final int SMALL_BATCHES = 128;
    private final long[] smallBatches = new long[(SMALL_BATCHES + 1) * 4];
    private final java.util.TreeMap<Integer, long[]> largeBatches = new java.util.TreeMap<>();

    private InferenceMetrics(MeterRegistry registry, ModelId model, java.time.Clock clock) {
        this.registry = registry;
        this.model = model;
        this.clock = clock;
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
        return new InferenceMetrics(registry, model, java.time.Clock.systemUTC());
    }

    /** As {@link #register(MeterRegistry, ModelId)}, reading wall-clock time for last_inference from {@code clock}. */
    public static InferenceMetrics register(MeterRegistry registry, ModelId model, java.time.Clock clock) {
        return new InferenceMetrics(registry, model, clock);
    }

    /** Meters into a registry nobody reads: for tests and benchmarks. */
    public static InferenceMetrics noop(ModelId model) {
        return new InferenceMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), model,
                java.time.Clock.systemUTC());
    }

    public void pendingGauge(Supplier<Number> pending) {
        Gauge.builder(MetricNames.INFERENCE_QUEUE_PENDING.meterName(), pending)
                .description("Requests waiting in the queue").tags(tags).register(registry);
    }

    public void requestSucceeded(long totalNanos) {
        requestSucceeded(totalNanos, 1);
    }

    /** A request of {@code rows} rows (inferences) answered successfully {@code totalNanos} after admission. */
    public void requestSucceeded(long totalNanos, int rows) {
        success.record(totalNanos, TimeUnit.NANOSECONDS);
        long now = clock.millis();
        synchronized (this) {
            inferenceCount += rows;
            lastInferenceMillis = now;
        }
    }

    public void requestFailed(ErrorCode code, long totalNanos) {
        Timer t;
        synchronized (failures) {
            t = failures.computeIfAbsent(code, c -> Timer.builder(MetricNames.INFERENCE_REQUEST_DURATION.meterName())
                    .description("Inference requests from admission to answer")
                    .tags(tags).tag("outcome", "error").tag("error", c.name()).register(registry));
        }
        t.record(totalNanos, TimeUnit.NANOSECONDS);
        long now = clock.millis();
        synchronized (this) {
            lastInferenceMillis = now;
        }
    }

    public void queued(long queueNanos) {
        queue.record(queueNanos, TimeUnit.NANOSECONDS);
    }

    /** One execution that failed: its whole time counts as the model's. */
    public void executed(int rows, int requests, long computeNanos) {
        executed(rows, requests, computeNanos, 0, 0);
    }

    /**
     * One execution of {@code rows} rows serving {@code requests} requests, {@code computeNanos} in all, of which
     * {@code inputNanos} went into preparing the inputs and {@code outputNanos} into handing out the outputs (the
     * rest is the model's run: Triton's compute_infer).
     */
    public void executed(int rows, int requests, long computeNanos, long inputNanos, long outputNanos) {
        compute.record(computeNanos, TimeUnit.NANOSECONDS);
        batchRows.record(rows);
        batchRequests.record(requests);
        long inferNanos = Math.max(0, computeNanos - inputNanos - outputNanos);
        synchronized (this) {
            computeRequests += requests;
            computeRequestNanos += inferNanos * requests;
            inputRequestNanos += inputNanos * requests;
            outputRequestNanos += outputNanos * requests;
            long[] sizeStats;
            int at;
            if (rows >= 0 && rows <= SMALL_BATCHES) {
                sizeStats = smallBatches;
                at = rows * 4;
            } else {
                sizeStats = largeBatches.computeIfAbsent(rows, r -> new long[4]);
                at = 0;
            }
            sizeStats[at]++;
            sizeStats[at + 1] += inferNanos;
            sizeStats[at + 2] += inputNanos;
            sizeStats[at + 3] += outputNanos;
        }
    }

    private static ModelStatistics.BatchSize batchSize(int size, long[] s, int at) {
        return new ModelStatistics.BatchSize(size, new ModelStatistics.Duration(s[at], s[at + 2]),
                new ModelStatistics.Duration(s[at], s[at + 1]), new ModelStatistics.Duration(s[at], s[at + 3]));
    }

    /** This version's counters in the shape of Triton's statistics extension. */
    public ModelStatistics statistics() {
        long failCount = 0;
        double failNanos = 0;
        synchronized (failures) {
            for (Timer t : failures.values()) {
                failCount += t.count();
                failNanos += t.totalTime(TimeUnit.NANOSECONDS);
            }
        }
        ModelStatistics.Duration ok = duration(success);
        ModelStatistics.Duration failed = new ModelStatistics.Duration(failCount, Math.round(failNanos));
        ModelStatistics.Duration queued = duration(queue);
        synchronized (this) {
            java.util.List<ModelStatistics.BatchSize> batches = new java.util.ArrayList<>();
            for (int size = 0; size <= SMALL_BATCHES; size++) {
                if (smallBatches[size * 4] > 0) {
                    batches.add(batchSize(size, smallBatches, size * 4));
                }
            }
            largeBatches.forEach((size, s) -> batches.add(batchSize(size, s, 0)));
            return new ModelStatistics(model, lastInferenceMillis, inferenceCount, compute.count(), ok, failed,
                    queued, new ModelStatistics.Duration(computeRequests, inputRequestNanos),
                    new ModelStatistics.Duration(computeRequests, computeRequestNanos),
                    new ModelStatistics.Duration(computeRequests, outputRequestNanos), batches);
        }
    }

    private static ModelStatistics.Duration duration(Timer t) {
        return new ModelStatistics.Duration(t.count(), Math.round(t.totalTime(TimeUnit.NANOSECONDS)));
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
