package dev.gantry.http.admin;

import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * Runs an admin route's work on the named worker pool (it writes the catalogue database and fsyncs, which must
 * never happen on an event loop) and answers with its JSON, or with the error it failed with.
 */
final class Replies {
    private Replies() {
    }

    static void blocking(RoutingContext ctx, WorkerExecutor workers, int status, Callable<Object> work) {
        workers.executeBlocking(work, /* ordered= */ false)
                .onSuccess(tree -> Json.send(ctx.response(), status, tree))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** As {@link #blocking}, for work that starts something and completes later (loads, drains, rollbacks). */
    static <T> void async(RoutingContext ctx, WorkerExecutor workers, int status,
                          Callable<CompletableFuture<T>> work) {
        io.vertx.core.Context context = ctx.vertx().getOrCreateContext();
        workers.executeBlocking(work, /* ordered= */ false)
                .compose(cf -> Future.fromCompletionStage(cf, context))
                .onSuccess(tree -> Json.send(ctx.response(), status, tree))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }
}
