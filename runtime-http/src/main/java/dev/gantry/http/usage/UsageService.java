package dev.gantry.http.usage;

import dev.gantry.http.tracing.Observability;
import dev.gantry.core.usage.UsageMeter;
import dev.gantry.core.runtime.ServingRuntime;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Usage accounting as the server runs it: the meter over the catalogue database, priced by
 * {@code <data>/prices.json}, limited by {@code <data>/quotas.json}, flushed by a thread of its own.
 */
public final class UsageService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsageService.class);

    private final UsageMeter meter;
    private final UsageRecorder recorder;
    private final ScheduledExecutorService flusher;

    private UsageService(UsageMeter meter, UsageRecorder recorder, ScheduledExecutorService flusher) {
        this.meter = meter;
        this.recorder = recorder;
        this.flusher = flusher;
    }

    /**
     * Reads the price and quota files, and the current month's usage when there are quotas (blocking).
     *
     * @throws IOException when a file cannot be read; IllegalArgumentException when one is invalid
     */
    public static UsageService start(java.nio.file.Path dataDir, Observability o, ServingRuntime core,
                                     MeterRegistry registry)
            throws IOException {
        UsageMeter meter = core.usageMeter(UsageFiles.prices(dataDir.resolve("prices.json")),
                UsageFiles.quotas(dataDir.resolve("quotas.json")), o.clock(), registry);
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                .daemon(true).name("gantry-usage-flush").unstarted(r));
        long every = Math.max(1, o.usageFlushInterval().toMillis());
        flusher.scheduleWithFixedDelay(() -> {
            try {
                meter.flush();
            } catch (RuntimeException e) {
                log.warn("usage flush failed: {}", e.toString());
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return new UsageService(meter, new UsageRecorder(meter, o.clock()), flusher);
    }

    /** What inference endpoints call around each request. */
    public UsageRecorder recorder() {
        return recorder;
    }

    /** Stops the flush thread and writes what is pending; call before the catalogue closes. */
    @Override
    public void close() {
        // shutdown, not shutdownNow: an interrupt inside a database write can close H2's file channel.
        flusher.shutdown();
        try {
            flusher.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            meter.close();
        } catch (RuntimeException e) {
            log.error("writing usage at shutdown failed; the last seconds of usage are lost", e);
        }
    }
}
