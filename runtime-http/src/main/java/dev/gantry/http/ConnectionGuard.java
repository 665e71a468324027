package dev.gantry.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Cuts off connections that do not deliver a complete request head in time: within the header timeout of
 * opening, or of the previous response on a kept-alive connection. Slow clients ("slowloris") and idle
 * keep-alive connections are closed without holding any thread; Netty's idle timeout alone would not do it,
 * since one byte now and then resets it.
 */
final class ConnectionGuard {
    private final Vertx vertx;
    private final long headerTimeoutMs;
    /* One map per event loop thread: a connection's handlers all run on its own loop. */
    private final ThreadLocal<Map<HttpConnection, State>> states = ThreadLocal.withInitial(WeakHashMap::new);

    private final String keepAlive;
    private final java.util.function.BooleanSupplier draining;
    private final java.util.concurrent.atomic.AtomicLong lastRequestNanos;

    /** @param draining true once the server drains: every response then closes its connection */
    ConnectionGuard(Vertx vertx, long headerTimeoutMs, java.util.function.BooleanSupplier draining,
                    java.util.concurrent.atomic.AtomicLong lastRequestNanos) {
        this.vertx = vertx;
        this.lastRequestNanos = lastRequestNanos;
        this.headerTimeoutMs = headerTimeoutMs;
        this.draining = draining;
        this.keepAlive = "timeout=" + Math.max(1, headerTimeoutMs / 1000 - 1);
    }

    private final class State {
        final HttpConnection connection;
        long timer = -1;
        boolean busy;

        State(HttpConnection connection) {
            this.connection = connection;
        }

        void arm() {
            cancel();
            timer = vertx.setTimer(headerTimeoutMs, id -> {
                timer = -1;
                if (!busy) {
                    connection.close();
                }
            });
        }

        void cancel() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }
    }

    void onConnection(HttpConnection connection) {
        State s = new State(connection);
        states.get().put(connection, s);
        s.arm();
        connection.closeHandler(v -> {
            s.cancel();
            states.get().remove(connection);
        });
    }

    /** First handler of every route: the head has arrived; the clock restarts when the response ends. */
    void onRequest(RoutingContext ctx) {
        lastRequestNanos.set(System.nanoTime());
        // Tell clients how long an idle connection lives, so those that honour it stop reusing it before we
        // close it (the race where a request is sent on a connection just as it closes).
        if (draining.getAsBoolean()) {
            // Draining: no request may follow on this connection, so the client opens a new one, which the
            // closing listener then refuses cleanly instead of cutting a request off mid-connection.
            ctx.response().putHeader("Connection", "close");
        } else {
            ctx.response().putHeader("Keep-Alive", keepAlive);
        }
        State s = states.get().get(ctx.request().connection());
        if (s != null) {
            s.busy = true;
            s.cancel();
            ctx.addEndHandler(ar -> {
                s.busy = false;
                if (!ctx.response().closed()) {
                    s.arm();
                }
            });
        }
        ctx.next();
    }
}
