package dev.gantry.bench.load;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The load generator's behaviour against a trivial in-process server: counts, not performance. */
class HttpLoadGeneratorTest {
    private static final Buffer BODY = Buffer.buffer("{\"inputs\":[]}");

    private Vertx vertx;
    private HttpServer server;
    private final AtomicInteger wellFormed = new AtomicInteger();
    private final AtomicInteger connectionsOpen = new AtomicInteger();
    private final AtomicInteger connectionsClosed = new AtomicInteger();

    @BeforeEach
    void startServer() {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().connectionHandler(c -> {
            connectionsOpen.incrementAndGet();
            c.closeHandler(v -> connectionsClosed.incrementAndGet());
        }).requestHandler(req -> req.body().onSuccess(body -> {
            if (body.equals(BODY)) {
                wellFormed.incrementAndGet();
                /* What Gantry says: it closes a connection idle for 10 s. */
                req.response().putHeader("Keep-Alive", "timeout=9").putHeader("Gantry-Model-Version", "2").end("{}");
            } else {
                req.response().setStatusCode(400).end();
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
    }

    @AfterEach
    void stopServer() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /** Both pacers: the event loop's own timers (native transport) and the thread pacer (NIO). */
    @ParameterizedTest(name = "native transport: {0}")
    @ValueSource(booleans = {true, false})
    void openLoop_sendsRateTimesDuration_andAllSucceed(boolean nativeTransport) throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000, HttpLoadGenerator.IDLE_LIMIT, -1, nativeTransport)) {
            if (nativeTransport) {
                assumeTrue(gen.nativeTransport(), "Netty's native transport does not load here: no loop pacer");
            } else {
                assertFalse(gen.nativeTransport(), "the NIO transport must take the thread pacer");
            }
            Measurement m = gen.openLoop(request, 200, Duration.ofSeconds(2));

            assertEquals(400, m.sent());
            assertEquals(400, m.ok());
            assertEquals(0, m.errors(), () -> "errors: " + m.errorKinds());
            assertEquals(400, m.latency().getTotalCount());
            assertEquals(400, wellFormed.get(), "every request must carry the whole body");
            assertTrue(m.elapsedSeconds() >= 1.9 && m.elapsedSeconds() < 3, "elapsed " + m.elapsedSeconds());
        }
    }

    @Test
    void openLoop_timeline_placesAServerStallAtTheRequestsDueDuringIt() throws Exception {
        // a second server that holds back for 150 ms every request arriving 500-600 ms after its first one
        long[] first = {0};
        HttpServer stalling = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            long now = System.nanoTime();
            if (first[0] == 0) {
                first[0] = now;
            }
            long since = (now - first[0]) / 1_000_000;
            if (since >= 500 && since < 600) {
                vertx.setTimer(150, id -> req.response().end("{}"));
            } else {
                req.response().end("{}");
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", stalling.actualPort(), 64,
                Duration.ofSeconds(5), 10_000)) {
            Timeline timeline = new Timeline(Duration.ofSeconds(1), Duration.ofMillis(100));
            Measurement m = gen.openLoop(request, 200, Duration.ofSeconds(1), () -> { }, timeline);

            assertEquals(200, m.ok());
            Timeline.Slice worst = timeline.slowest(1).getFirst();
            assertTrue(worst.atSeconds() >= 0.4 && worst.atSeconds() <= 0.6, "slowest slice " + worst);
            assertTrue(worst.maxMillis() >= 140, "slowest slice " + worst);
            assertEquals(200, timeline.slowest(100).stream().mapToLong(Timeline.Slice::requests).sum());
        }
    }

    @Test
    void openLoop_countsNon200AnswersAsErrors() throws Exception {
        LoadRequest wrongBody = new LoadRequest("/x", Buffer.buffer("nope"), OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000)) {
            Measurement m = gen.openLoop(wrongBody, 100, Duration.ofSeconds(1));

            assertEquals(100, m.errors());
            assertEquals(0, m.ok());
            assertEquals(100L, m.errorKinds().get("status-400"));
        }
    }

    @Test
    void closedLoop_answersEveryRequestItSent() throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000)) {
            Measurement m = gen.closedLoop(request, 4, Duration.ofSeconds(1));

            assertTrue(m.ok() > 0);
            assertEquals(m.sent(), m.ok());
            assertEquals(0, m.errors());
            assertEquals(m.ok(), wellFormed.get());
        }
    }

    @Test
    void idleConnection_isClosedByTheClientAfterItsOwnLimit_whenTheServerAdvertisesALongerOne() throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000, Duration.ofSeconds(1))) {
            Measurement m = gen.closedLoop(request, 1, Duration.ofMillis(200));
            assertEquals(0, m.errors());
            assertFalse(KeepAliveCap.installFailed(), "the Keep-Alive cap must be in every connection's pipeline");
            int opened = connectionsOpen.get();
            assertTrue(opened >= 1);

            /* expiry after 1 s of idleness, found by the pool's cleaner within another second */
            long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (connectionsClosed.get() < opened && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }

            assertEquals(opened, connectionsClosed.get(), "the client must not keep idle connections for the "
                    + "server's 9 s");
        }
    }

    @Test
    void keepAliveCap_keepsTheShorterOfTheServersTimeoutAndOurs() {
        assertEquals("timeout=4", KeepAliveCap.capped("timeout=9", 4));
        assertEquals("timeout=2", KeepAliveCap.capped("timeout=2, max=100", 4));
        assertEquals("timeout=4", KeepAliveCap.capped("max=100", 4));
    }

    @Test
    void openLoop_countsAnswersPerServingVersion() throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000)) {
            Measurement m = gen.openLoop(request, 100, Duration.ofMillis(500));

            assertEquals(java.util.Map.of("2", 50L), m.servedBy());
        }
    }
}
