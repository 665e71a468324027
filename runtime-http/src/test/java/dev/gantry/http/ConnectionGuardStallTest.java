package dev.gantry.http;

import dev.gantry.http.hardening.RawHttp;
import dev.gantry.http.inference.BodyReader;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The connection guard judges a connection idle by the time since it opened or last answered, on a sweep that runs
 * as a task of the connection's event loop. When that loop stalls (a GC pause, a starved core), a request can
 * arrive and wait unread in the socket while the sweep that runs after the stall finds the connection long
 * past its header timeout. Closing it then resets the connection under a request the client sent in time.
 */
class ConnectionGuardStallTest {
    private static final long HEADER_TIMEOUT_MS = 500;
    private Vertx vertx;
    private Context loop;
    private int port;
    /** Completed on the loop when the guard has seen the connection, and when the body's read has begun. */
    private final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> bodyReadStarted = new CompletableFuture<>();

    /* A server per test: a stall also delays the sweeps due during it, and those run on after it. */
    @BeforeEach
    void start() throws Exception {
        // One event loop: the connection, its sweep and the stall below share it.
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        loop = vertx.getOrCreateContext();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        loop.runOnContext(v -> {
            ConnectionGuard guard = new ConnectionGuard(vertx, HEADER_TIMEOUT_MS, HEADER_TIMEOUT_MS, () -> false,
                    new AtomicLong());
            Router router = Router.router(vertx);
            router.route().handler(guard::onRequest);
            router.post("/body").handler(ctx -> {
                BodyReader.read(ctx.request(), 1 << 20, vertx, HEADER_TIMEOUT_MS)
                        .onSuccess(body -> ctx.response().end("read " + body.length() + " bytes"))
                        .onFailure(e -> ctx.response().setStatusCode(408).end(e.getMessage()));
                bodyReadStarted.complete(null);
            });
            router.route().handler(ctx -> ctx.response().end("served"));
            vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                            // as the server's own listeners: the guard sees a connection before its first request
                            .setHttp2ClearTextEnabled(false))
                    .connectionHandler(c -> {
                        guard.onConnection(c);
                        connected.complete(null);
                    }).requestHandler(router).listen()
                    .onSuccess(s -> listening.complete(s.actualPort()))
                    .onFailure(listening::completeExceptionally);
        });
        port = listening.get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /**
     * Stalls the loop for a second from about 300 ms from now, with a sweep queued behind the stall: the stall
     * is a task scheduled for now, so it runs in the loop's next task phase ahead of the sweep that falls due
     * while this task spins (a sweep runs every 125 ms here). Whatever a client sends during the stall waits
     * unread, and that sweep runs right after the stall, with no read in between.
     */
    private void stallTheLoopWithASweepBehind() {
        loop.runOnContext(v -> {
            ((ContextInternal) loop).nettyEventLoop().schedule(
                    () -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1_000)), 0, TimeUnit.MILLISECONDS);
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        });
    }

    private static RawHttp.Reply send(Socket client, String request) throws Exception {
        client.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        client.getOutputStream().flush();
        InputStream in = client.getInputStream();
        return RawHttp.read(in);
    }

    @Test
    void aRequestSentWhileTheLoopStalls_isServed_notCutOffAsIdle() throws Exception {
        try (Socket client = RawHttp.connect(port, 10_000)) {
            connected.get(10, TimeUnit.SECONDS); // its idle clock runs from here
            stallTheLoopWithASweepBehind();
            Thread.sleep(500); // inside the stall; the sweep after it runs 1.3 s after the connection opened
            RawHttp.Reply reply = send(client, "GET /anything HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
            assertEquals(200, reply.status(), reply.toString());
            assertEquals("served", new String(reply.body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aBodySentWhileTheLoopStalls_isRead_notAnswered408() throws Exception {
        try (Socket client = RawHttp.connect(port, 10_000)) {
            client.getOutputStream().write(("POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            client.getOutputStream().flush();
            bodyReadStarted.get(10, TimeUnit.SECONDS); // the body's deadline runs from here
            stallTheLoopWithASweepBehind();
            Thread.sleep(500); // inside the stall; the sweep after it runs 0.8 s past the body's deadline
            RawHttp.Reply reply = send(client, "0123456789");
            assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
            assertEquals(200, reply.status(), reply + " " + new String(reply.body(), StandardCharsets.UTF_8));
            assertEquals("read 10 bytes", new String(reply.body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aBodyThatStopsArriving_stillGets408() throws Exception {
        try (Socket client = RawHttp.connect(port, 10_000)) {
            RawHttp.Reply reply = send(client, "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n01234");
            assertEquals(408, reply.status(), reply.toString());
        }
    }

    @Test
    void anIdleConnection_isStillClosed_withinTwoHeaderTimeouts() throws Exception {
        try (Socket client = RawHttp.connect(port, 10_000)) {
            long opened = System.nanoTime();
            int b = client.getInputStream().read();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened);
            assertEquals(-1, b, "an idle connection got bytes instead of a close");
            // Closed between one and one and a half timeouts after it opened; the bound leaves room for a slow machine.
            org.junit.jupiter.api.Assertions.assertTrue(ms >= HEADER_TIMEOUT_MS && ms < HEADER_TIMEOUT_MS + 5_000,
                    "closed after " + ms + " ms");
        }
    }
}
