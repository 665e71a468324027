package dev.gantry.http.hardening;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients that are slow, idle or oversized cannot hold the server: the header and body timeouts cut them off. */
class SlowClientsTest {
    private static final Duration HEADER_TIMEOUT = Duration.ofMillis(500);
    private static final Duration BODY_TIMEOUT = Duration.ofMillis(500);
    /** How long past a timeout a test waits for the server to act before calling it a failure. */
    private static final int GRACE_MS = 5_000;

    private static ServerFixture server;

    @BeforeAll
    static void start() throws IOException {
        ServerConfig.Limits limits = ServerConfig.Limits.defaults()
                .withTimeouts(HEADER_TIMEOUT, BODY_TIMEOUT, Duration.ofSeconds(30));
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS,
                Files.createTempDirectory(Path.of("target"), "slow-clients")).withLimits(limits),
                ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void headSentOneBytePer200ms_isCutOffAfterHeaderTimeout_whileOtherClientsAreServed() throws Exception {
        byte[] head = ("GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "s".repeat(40) + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        AtomicInteger written = new AtomicInteger();
        AtomicBoolean closed = new AtomicBoolean();
        try (Socket slow = RawHttp.connect(server.server().port(), HEADER_TIMEOUT.toMillisPart() + GRACE_MS)) {
            long opened = System.nanoTime();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = slow.getOutputStream();
                    for (int i = 0; i < head.length && !closed.get(); i++) {
                        out.write(head[i]);
                        out.flush();
                        written.incrementAndGet();
                        Thread.sleep(200);
                    }
                } catch (IOException e) {
                    closed.set(true); // the server has closed the connection
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<Long> eof = CompletableFuture.supplyAsync(() -> {
                int b;
                try {
                    b = slow.getInputStream().read();
                } catch (SocketTimeoutException e) {
                    return -1L;
                } catch (IOException e) {
                    b = -1; // reset: closed too
                }
                closed.set(true);
                return b < 0 ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened) : -2L;
            });

            int served = 0;
            for (int i = 0; i < 200 && !eof.isDone(); i++) {
                assertEquals(200, server.get("/v2/health/live").statusCode());
                served++;
            }

            long closedAfterMs = eof.get(HEADER_TIMEOUT.toMillis() + GRACE_MS, TimeUnit.MILLISECONDS);
            writer.get(GRACE_MS, TimeUnit.MILLISECONDS);
            assertTrue(closedAfterMs >= 0, "the slow connection was not closed within "
                    + (HEADER_TIMEOUT.toMillis() + GRACE_MS) + " ms (" + written.get() + " of " + head.length
                    + " head bytes sent)" + (closedAfterMs == -2 ? "; the server answered instead" : ""));
            assertTrue(closedAfterMs >= HEADER_TIMEOUT.toMillis() - 50, "closed after only " + closedAfterMs + " ms");
            assertTrue(written.get() < head.length, "the whole head was sent before the connection closed");
            assertTrue(served > 0, "no other request was served while the slow client was connected");
            System.out.printf("slow client cut off after %d ms (%d of %d head bytes); %d requests served meanwhile%n",
                    closedAfterMs, written.get(), head.length, served);
        }
    }

    @Test
    void bodyShorterThanContentLength_gets408JsonError_andConnectionCloses() throws IOException {
        String body = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 1), null);
        byte[] request = ("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n" + body.substring(0, 10)).getBytes(StandardCharsets.ISO_8859_1);
        try (Socket s = RawHttp.connect(server.server().port(), (int) BODY_TIMEOUT.toMillis() + GRACE_MS)) {
            s.getOutputStream().write(request);
            InputStream in = new BufferedInputStream(s.getInputStream());
            RawHttp.Reply reply = RawHttp.read(in);

            assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
            assertEquals(408, reply.status(), reply.toString());
            assertTrue(reply.header("Content-Type").startsWith("application/json"), reply.toString());
            assertTrue(Bodies.parse(reply.bodyText()).get("error").asText().contains("body"), reply.toString());
            assertEquals(-1, readOrEof(in), "the connection stayed open after the 408");
        }
    }

    @Test
    void severalBodiesThatStopArrivingTogether_eachGet408_andTheirConnectionsClose() throws IOException {
        // Deadlines that pass in the same sweep of the connection guard: every one must be answered.
        String body = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 1), null);
        byte[] request = ("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n" + body.substring(0, 10)).getBytes(StandardCharsets.ISO_8859_1);
        java.util.List<Socket> sockets = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = RawHttp.connect(server.server().port(), (int) BODY_TIMEOUT.toMillis() + GRACE_MS);
                sockets.add(s);
                s.getOutputStream().write(request);
            }
            for (Socket s : sockets) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                RawHttp.Reply reply = RawHttp.read(in);

                assertEquals(408, reply.status(), reply.toString());
                assertEquals(-1, readOrEof(in), "the connection stayed open after the 408");
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void headLargerThanMaxHeaderBytes_gets431_andServerKeepsServing() {
        int max = ServerConfig.Limits.defaults().maxHeaderBytes();
        byte[] request = ("GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(max + 1024)
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);

        RawHttp.Reply reply = RawHttp.exchange(server.server().port(), request, GRACE_MS);

        assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
        assertEquals(431, reply.status(), reply.toString());
        assertEquals(200, server.get("/v2/health/live").statusCode());
    }

    @Test
    void idleKeepAliveConnection_isClosedAfterHeaderTimeout() throws IOException {
        try (Socket s = RawHttp.connect(server.server().port(), (int) HEADER_TIMEOUT.toMillis() + GRACE_MS)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            s.getOutputStream().write(healthRequest());
            assertEquals(200, RawHttp.read(in).status());
            long answered = System.nanoTime();

            assertEquals(-1, readOrEof(in), "the idle connection was not closed");
            long idleMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered);
            assertTrue(idleMs >= HEADER_TIMEOUT.toMillis() - 50, "closed after only " + idleMs + " ms idle");
        }
    }

    @Test
    void keepAliveConnection_usedAgainWithinHeaderTimeout_servesTheNextRequest() throws IOException {
        try (Socket s = RawHttp.connect(server.server().port(), (int) HEADER_TIMEOUT.toMillis() + GRACE_MS)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(healthRequest());
                RawHttp.Reply reply = RawHttp.read(in);
                assertEquals(200, reply.status(), "request " + i + " on the kept-alive connection: " + reply);
            }
        }
    }

    private static byte[] healthRequest() {
        return "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    }

    /** -1 when the server closed (or reset) the connection; the byte read otherwise; throws on read timeout. */
    private static int readOrEof(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            return -1;
        }
    }
}
