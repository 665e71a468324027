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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Starts and stops usage accounting and tracing for {@link GantryServer}, so its wiring stays a few lines. */
final class ObservabilityWiring {
    private static final Logger log = LoggerFactory.getLogger(ObservabilityWiring.class);

    private ObservabilityWiring() {
    }

    /**
     * Usage kept in the catalogue database, priced by {@code <data>/prices.json}, limited by
     * {@code <data>/quotas.json}, flushed every {@code usageFlushInterval} on {@code timers}.
     */
    static UsageRecorder startUsage(ServerConfig config, CatalogStore catalog, MeterRegistry registry,
                                    ScheduledExecutorService timers) throws IOException {
        ServerConfig.Observability o = config.observability();
        UsageMeter meter = UsageMeter.create(H2UsageStore.in(catalog),
                UsageFiles.prices(config.dataDir().resolve("prices.json")),
                UsageFiles.quotas(config.dataDir().resolve("quotas.json")), o.clock(), registry);
        long every = Math.max(1, o.usageFlushInterval().toMillis());
        timers.scheduleWithFixedDelay(() -> {
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
