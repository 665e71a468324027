package dev.gantry.http.metrics;

import dev.gantry.core.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Builds the Prometheus registry: histograms for Gantry's latency and size meters, plus JVM and process meters. */
public final class MetricsSetup {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MetricsSetup.class);
    private MetricsSetup() {
    }

    public static PrometheusMeterRegistry prometheus() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                double[] buckets = buckets(id.getName());
                if (buckets == null) {
                    return config;
                }
                double[] inBaseUnit = id.getType() == Meter.Type.TIMER ? nanos(buckets) : buckets;
                return DistributionStatisticConfig.builder().percentilesHistogram(false)
                        .serviceLevelObjectives(inBaseUnit).build().merge(config);
            }
        });
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        return registry;
    }

    /*
     * Why fixed buckets. Micrometer's percentile histogram gives a timer 69 buckets from 1 ms to 30 s and a
     * distribution summary 276 buckets from 1 to 2^62. Below 1 ms a timer had no bucket at all, so an MLP
     * answered in 80 us and one answered in 900 us both counted as "under 1 ms", and histogram_quantile made
     * up the rest; the batch summaries spent 250 buckets on sizes no batch reaches. With 23 model versions
     * loaded, one scrape of /metrics was 1.8 MB (19,927 lines), 95% of it buckets, and every recording
     * searched those bucket arrays. The buckets below follow the 1-2-5 series over the range each meter
     * can take, so a quantile is read within one step of that series.
     */

    /** Seconds, for the per-request and per-execution timers: 20 us (a small model's compute) to 60 s. */
    static final double[] LATENCY_SECONDS = {
        20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
        20, 60,
    };
    /** Rows or requests per execution: every size up to 4 and steps of at most 1.5x to 4096. */
    static final double[] BATCH_SIZES = {
        1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 4096,
    };
    /** Seconds, for loading (with warm-up) and draining a version: 50 ms to 30 min. */
    static final double[] LIFECYCLE_SECONDS = {
        0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1800,
    };

    /** The bucket boundaries of a meter Gantry publishes as a histogram, in seconds or units; null for others. */
    static double[] buckets(String meterName) {
        if (meterName.equals(MetricNames.INFERENCE_REQUEST_DURATION.meterName())
                || meterName.equals(MetricNames.INFERENCE_QUEUE_DURATION.meterName())
                || meterName.equals(MetricNames.INFERENCE_COMPUTE_DURATION.meterName())) {
            return LATENCY_SECONDS;
        }
        if (meterName.equals(MetricNames.INFERENCE_BATCH_SIZE.meterName())
                || meterName.equals(MetricNames.INFERENCE_BATCH_REQUESTS.meterName())) {
            return BATCH_SIZES;
        }
        if (meterName.equals(MetricNames.MODEL_LOAD_DURATION.meterName())
                || meterName.equals(MetricNames.DRAIN_DURATION.meterName())) {
            return LIFECYCLE_SECONDS;
        }
        return null;
    }

    /** A timer's boundaries are given to Micrometer in its base unit, nanoseconds. */
    private static double[] nanos(double[] seconds) {
        double[] n = new double[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            n[i] = Math.rint(seconds[i] * 1e9);
        }
        return n;
    }

    /** Counts (and logs) every time Vert.x finds one of its threads blocked past its limit. */
    public static void countBlockedThreads(io.vertx.core.Vertx vertx, MeterRegistry registry) {
        Counter blocked = Counter.builder(MetricNames.EVENT_LOOP_BLOCKED.meterName())
                .description("Times an event loop was blocked past Vert.x's limit").register(registry);
        ((io.vertx.core.internal.VertxInternal) vertx).blockedThreadChecker().setThreadBlockedHandler(event -> {
            blocked.increment();
            log.warn("Vert.x thread blocked: {}", event);
        });
    }
}
