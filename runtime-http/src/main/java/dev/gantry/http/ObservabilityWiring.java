package dev.gantry.http;

import dev.gantry.core.usage.UsageMeter;
import dev.gantry.http.tracing.Tracing;
import dev.gantry.http.usage.UsageFiles;
import dev.gantry.http.usage.UsageRecorder;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.H2UsageStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Starts and stops usage accounting and tracing for {@link GantryServer}, so its wiring stays a few lines. */
final class ObservabilityWiring {
    private static final Logger log = LoggerFactory.getLogger(ObservabilityWiring.class);

    /** Each meter's flush thread (one per server; a map so that servers in one JVM stay apart). */
    private static final Map<UsageMeter, ScheduledExecutorService> FLUSHERS = new ConcurrentHashMap<>();

    private ObservabilityWiring() {
    }

    /**
     * Usage kept in the catalogue database, priced by {@code <data>/prices.json}, limited by
     * {@code <data>/quotas.json}, flushed every {@code usageFlushInterval} by a thread of its own.
     */
    static UsageRecorder startUsage(ServerConfig config, CatalogStore catalog, MeterRegistry registry)
            throws IOException {
        ServerConfig.Observability o = config.observability();
        UsageMeter meter = UsageMeter.create(H2UsageStore.in(catalog),
                UsageFiles.prices(config.dataDir().resolve("prices.json")),
                UsageFiles.quotas(config.dataDir().resolve("quotas.json")), o.clock(), registry);
        long every = Math.max(1, o.usageFlushInterval().toMillis());
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                .daemon(true).name("gantry-usage-flush").unstarted(r));
        FLUSHERS.put(meter, flusher);
        flusher.scheduleWithFixedDelay(() -> {
            try {
                meter.flush();
            } catch (RuntimeException e) {
                log.warn("usage flush failed: {}", e.toString());
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return new UsageRecorder(meter, o.clock());
    }

    /** Writes pending usage and exported spans; before the catalogue closes. */
    static void close(UsageMeter usage, Tracing tracing) {
        if (usage != null) {
            ScheduledExecutorService flusher = FLUSHERS.remove(usage);
            if (flusher != null) {
                // Not shutdownNow: an interrupt inside a database write can close H2's file channel.
                flusher.shutdown();
                try {
                    flusher.awaitTermination(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                usage.close();
            } catch (RuntimeException e) {
                log.error("writing usage at shutdown failed; the last seconds of usage are lost", e);
            }
        }
        if (tracing != null) {
            tracing.close();
        }
    }
}
