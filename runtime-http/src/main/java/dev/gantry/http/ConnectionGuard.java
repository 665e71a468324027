package dev.gantry.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Cuts off connections that do not deliver a complete request head in time: within the header timeout of
 * opening, or of the previous response on a kept-alive connection. Slow clients ("slowloris") and idle
 * keep-alive connections are closed without holding any thread; Netty's idle timeout alone would not do it,
 * since one byte now and then resets it.
 */
final class ConnectionGuard implements dev.gantry.http.inference.BodyDeadlines {
    /*
     * No timer per request: each connection records when it last became idle (opened, or its response ended),
     * and one periodic sweep per event loop closes those idle longer than the header timeout. A request then
     * costs two field writes; a connection is closed between one and one-and-a-quarter timeouts after it went
     * quiet. All of a connection's handlers and its loop's sweep run on the same thread.
     *
     * The same sweep enforces the body timeout (BodyDeadlines): a body read arms a deadline on its connection's
     * state, the sweep fails the read once it has passed, completion disarms it. A request then costs no timer
     * (no scheduled task queued and cancelled on Netty's timer heap); the 408 comes between one body timeout
     * and one plus a sweep interval after the read started, the sweep running at least every quarter of the
     * shorter of the two timeouts.
     */
    private final Vertx vertx;
    private final long headerTimeoutNanos;
    private final long sweepMs;
    private final ThreadLocal<Map<HttpConnection, State>> states = new ThreadLocal<>();
    private final String keepAlive;
    private final java.util.function.BooleanSupplier draining;
    private final java.util.concurrent.atomic.AtomicLong lastRequestNanos;

    /** @param draining true once the server drains: every response then closes its connection */
    ConnectionGuard(Vertx vertx, long headerTimeoutMs, long bodyTimeoutMs,
                    java.util.function.BooleanSupplier draining,
                    java.util.concurrent.atomic.AtomicLong lastRequestNanos) {
        this.vertx = vertx;
        this.lastRequestNanos = lastRequestNanos;
        this.headerTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(headerTimeoutMs);
        this.sweepMs = Math.max(25, Math.min(headerTimeoutMs, bodyTimeoutMs) / 4);
        this.draining = draining;
        this.keepAlive = "timeout=" + Math.max(1, headerTimeoutMs / 1000 - 1);
    }

    private static final class State implements Armed {
        boolean busy;
        long idleSince;
        /** The armed body deadline's action, null when none is armed; its time is {@link #bodyDeadline}. */
        Runnable onBodyExpiry;
        long bodyDeadline;

        State(long now) {
            idleSince = now;
        }

        @Override
        public void disarm() {
            onBodyExpiry = null;
        }
    }

    @Override
    public Armed arm(io.vertx.core.http.HttpServerRequest request, long timeoutMs, Runnable onExpiry) {
        Map<HttpConnection, State> loop = states.get();
        State s = loop == null ? null : loop.get(request.connection());
        if (s == null || s.onBodyExpiry != null) {
            return null;
        }
        s.bodyDeadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        s.onBodyExpiry = onExpiry;
        return s;
    }

    void onConnection(HttpConnection connection) {
        Map<HttpConnection, State> loop = states.get();
        if (loop == null) {
            Map<HttpConnection, State> created = new WeakHashMap<>();
            states.set(created);
            dev.gantry.http.inference.BodyReader.useDeadlinesOnThisThread(this);
            vertx.setPeriodic(sweepMs, id -> sweep(created));
            loop = created;
        }
        Map<HttpConnection, State> mine = loop;
        mine.put(connection, new State(System.nanoTime()));
        connection.closeHandler(v -> mine.remove(connection));
    }

    private void sweep(Map<HttpConnection, State> loop) {
        long now = System.nanoTime();
        List<HttpConnection> expired = new ArrayList<>();
        List<Runnable> lateBodies = new ArrayList<>();
        loop.forEach((c, s) -> {
            if (!s.busy && now - s.idleSince > headerTimeoutNanos) {
                expired.add(c);
            }
            if (s.onBodyExpiry != null && now - s.bodyDeadline >= 0) {
                lateBodies.add(s.onBodyExpiry);
                s.onBodyExpiry = null;
            }
        });
        for (HttpConnection c : expired) {
            loop.remove(c);
            c.close();
        }
        lateBodies.forEach(Runnable::run);
    }

    /** First handler of every route: the head has arrived; the idle clock restarts when the response ends. */
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
        Map<HttpConnection, State> loop = states.get();
        State s = loop == null ? null : loop.get(ctx.request().connection());
        if (s != null) {
            s.busy = true;
            ctx.addEndHandler(ar -> {
                s.busy = false;
                s.idleSince = System.nanoTime();
            });
        }
        ctx.next();
    }
}
