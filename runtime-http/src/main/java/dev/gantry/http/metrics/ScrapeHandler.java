package dev.gantry.http.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /metrics}: the Prometheus text, rendered on the worker pool (it walks every meter). */
public final class ScrapeHandler implements Handler<RoutingContext> {
    private final PrometheusMeterRegistry registry;
    private final WorkerExecutor workers;

    public ScrapeHandler(PrometheusMeterRegistry registry, WorkerExecutor workers) {
        this.registry = registry;
        this.workers = workers;
    }

    @Override
    public void handle(RoutingContext ctx) {
        workers.executeBlocking(registry::scrape, /* ordered= */ false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(Buffer.buffer(text)))
                .onFailure(ctx::fail);
    }
}
