package dev.gantry.http;

import dev.gantry.http.inference.BodyDeadlines;
import dev.gantry.http.inference.BodyReader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Cuts off connections that do not deliver a complete request head in time: within the header timeout of
 * opening, or of the previous response on a kept-alive connection. Slow clients ("slowloris") and idle
 * keep-alive connections are closed without holding any thread; Netty's idle timeout alone would not do it,
 * since one byte now and then resets it.
 */
final class ConnectionGuard {
    /*
     * No timer per request: each connection records when it last became idle (opened, or its response ended),
     * and one periodic sweep per event loop closes those idle longer than the header timeout. A request then
     * costs two field writes. All of a connection's handlers and its loop's sweep run on the same thread.
     *
     * A sweep acts only on what the sweep before it already found overdue. The loop reads its sockets between
     * two runs of the sweep (Netty fetches due timers once per task phase, and a periodic timer is queued again
     * only when it has run), so a request that arrived while the loop was stalled (a GC pause, a starved core)
     * has been read, and its connection marked busy, before the connection is judged. Closing on the first
     * sweep after such a stall cut off requests sent in time: the connection closed under an unread request.
     * A quiet connection is closed between one and one-and-a-half timeouts after it went quiet.
     *
     * The same sweep enforces the body timeout (BodyDeadlines): a body read arms a deadline on its connection's
     * state, the second sweep to find it passed fails the read (so bytes that arrived during a stall are read
     * first), completion disarms it. A request then costs no timer (no task queued and cancelled on Netty's
     * timer heap); the 408 comes between one body timeout plus one sweep interval and one plus two after the
     * read started, the sweep running every quarter of the shorter of the two timeouts. The loop remembers the
     * connection of the request it saw last, so the body read that follows on the same thread finds its state
     * without a map lookup.
     */
    private final Vertx vertx;
    private final long headerTimeoutNanos;
    private final long sweepMs;
    /* Per event loop; a Netty FastThreadLocal (an array read on a FastThreadLocalThread, see BodyReader). */
    private final io.netty.util.concurrent.FastThreadLocal<Loop> loops = new io.netty.util.concurrent.FastThreadLocal<>();
    private static final CharSequence KEEP_ALIVE = io.vertx.core.http.HttpHeaders.createOptimized("Keep-Alive");
    private final CharSequence keepAlive;
    private final java.util.function.BooleanSupplier draining;
    private final java.util.concurrent.atomic.AtomicLong lastRequestNanos;
    private static final long STAMP_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** @param draining true once the server drains: every response then closes its connection */
    ConnectionGuard(Vertx vertx, long headerTimeoutMs, long bodyTimeoutMs,
                    java.util.function.BooleanSupplier draining,
                    java.util.concurrent.atomic.AtomicLong lastRequestNanos) {
        this.vertx = vertx;
        this.lastRequestNanos = lastRequestNanos;
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMs);
        this.sweepMs = Math.max(25, Math.min(headerTimeoutMs, bodyTimeoutMs) / 4);
        this.draining = draining;
        this.keepAlive = io.vertx.core.http.HttpHeaders.createOptimized("timeout=" + Math.max(1, headerTimeoutMs / 1000 - 1));
    }

    private static final class State implements BodyDeadlines.Armed,
            io.vertx.core.Handler<io.vertx.core.AsyncResult<Void>> {
        boolean busy;
        long idleSince;
        /** The last sweep found this connection idle past the header timeout; the next one closes it. */
        boolean overdue;
        /** The armed body deadline's action, null when none is armed; its time is {@link #bodyDeadline}. */
        Runnable onBodyExpiry;
        long bodyDeadline;
        /** The last sweep found the armed body deadline passed; the next one fails the read. */
        boolean bodyOverdue;

        State(long now) {
            idleSince = now;
        }

        @Override
        public void disarm() {
            onBodyExpiry = null;
            bodyOverdue = false;
        }

        /** The end of a request on this connection: idle from now (the end handler, one per connection). */
        @Override
        public void handle(io.vertx.core.AsyncResult<Void> ended) {
            busy = false;
            idleSince = System.nanoTime();
        }
    }

    /** The connections of one event loop, and the body deadlines of their requests. */
    private static final class Loop implements BodyDeadlines {
        final Map<HttpConnection, State> connections = new WeakHashMap<>();
        HttpConnection lastConnection;
        State lastState;

        State state(HttpConnection c) {
            if (c == lastConnection && c != null) {
                return lastState;
            }
            State s = connections.get(c);
            lastConnection = c;
            lastState = s;
            return s;
        }

        void remove(HttpConnection c) {
            connections.remove(c);
            if (c == lastConnection) {
                lastConnection = null;
                lastState = null;
            }
        }

        @Override
        public Armed arm(HttpServerRequest request, long timeoutMs, Runnable onExpiry) {
            State s = state(request.connection());
            if (s == null || s.onBodyExpiry != null) {
                return null;
            }
            s.bodyDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            s.onBodyExpiry = onExpiry;
            s.bodyOverdue = false;
            return s;
        }
    }

    void onConnection(HttpConnection connection) {
        Loop loop = loops.get();
        if (loop == null) {
            Loop created = new Loop();
            loops.set(created);
            BodyReader.useDeadlinesOnThisThread(created);
            vertx.setPeriodic(sweepMs, id -> sweep(created));
            loop = created;
        }
        Loop mine = loop;
        mine.connections.put(connection, new State(System.nanoTime()));
        connection.closeHandler(v -> mine.remove(connection));
    }

    private void sweep(Loop loop) {
        long now = System.nanoTime();
        List<HttpConnection> expired = new ArrayList<>();
        List<Runnable> lateBodies = new ArrayList<>();
        loop.connections.forEach((c, s) -> {
            boolean idleTooLong = !s.busy && now - s.idleSince > headerTimeoutNanos;
            if (idleTooLong && s.overdue) {
                expired.add(c);
            }
            s.overdue = idleTooLong;
            boolean bodyLate = s.onBodyExpiry != null && now - s.bodyDeadline >= 0;
            if (bodyLate && s.bodyOverdue) {
                lateBodies.add(s.onBodyExpiry);
                s.onBodyExpiry = null;
                bodyLate = false;
            }
            s.bodyOverdue = bodyLate;
        });
        for (HttpConnection c : expired) {
            loop.remove(c);
            c.close();
        }
        for (Runnable late : lateBodies) {
            try {
                late.run();
            } catch (RuntimeException e) {
                // One request's failure to answer must not leave the others unanswered.
                org.slf4j.LoggerFactory.getLogger(ConnectionGuard.class).warn("body timeout of a request failed", e);
            }
        }
    }

    /** First handler of every route: the head has arrived; the idle clock restarts when the response ends. */
    void onRequest(RoutingContext ctx) {
        // For the drain's quiet wait, which polls every 20 ms: a release store at most once per millisecond, not
        // a volatile store (a full fence, on a line every event loop writes) per request.
        long now = System.nanoTime();
        long since = now - lastRequestNanos.getPlain();
        if (since >= STAMP_EVERY_NANOS || since < 0) { // < 0: the initial 0 ahead of a negative clock
            lastRequestNanos.setRelease(now);
        }
        // Tell clients how long an idle connection lives, so those that honour it stop reusing it before we
        // close it (the race where a request is sent on a connection just as it closes).
        if (draining.getAsBoolean()) {
            // Draining: no request may follow on this connection, so the client opens a new one, which the
            // closing listener then refuses cleanly instead of cutting a request off mid-connection.
            ctx.response().putHeader("Connection", "close");
        } else {
            ctx.response().putHeader(KEEP_ALIVE, keepAlive);
        }
        Loop loop = loops.get();
        State s = loop == null ? null : loop.state(ctx.request().connection());
        if (s != null) {
            s.busy = true;
            ctx.addEndHandler(s);
        }
        ctx.next();
    }
}
