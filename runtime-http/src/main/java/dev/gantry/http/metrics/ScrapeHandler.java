package dev.gantry.http.metrics;

import dev.gantry.http.auth.Caller;
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
        Caller caller = Caller.from(ctx);
        workers.executeBlocking(() -> caller.seesAllModels() ? registry.scrape() : scoped(registry.scrape(), caller),
                        /* ordered= */ false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(Buffer.buffer(text)))
                .onFailure(ctx::fail);
    }

    /** The scrape without the samples of models {@code caller} may not see (lines with another model="..." label). */
    static String scoped(String text, Caller caller) {
        StringBuilder out = new StringBuilder(text.length());
        for (String line : text.split("\n", -1)) {
            int at = line.startsWith("#") ? -1 : line.indexOf("model=\"");
            if (at >= 0) {
                int end = line.indexOf('"', at + 7);
                if (end > 0 && !caller.sees(line.substring(at + 7, end))) {
                    continue;
                }
            }
            out.append(line).append('\n');
        }
        return out.toString();
    }
}
