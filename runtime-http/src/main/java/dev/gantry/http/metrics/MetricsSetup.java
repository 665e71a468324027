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
                if (id.getName().startsWith("inference.") || id.getName().startsWith("model.")) {
                    return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config);
                }
                return config;
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
