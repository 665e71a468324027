package dev.gantry.bench.load;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load generator's behaviour against a trivial in-process server: counts, not performance. */
class HttpLoadGeneratorTest {
    private static final Buffer BODY = Buffer.buffer("{\"inputs\":[]}");

    private Vertx vertx;
    private HttpServer server;
    private final AtomicInteger wellFormed = new AtomicInteger();

    @BeforeEach
    void startServer() {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            if (body.equals(BODY)) {
                wellFormed.incrementAndGet();
                req.response().end("{}");
            } else {
                req.response().setStatusCode(400).end();
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
    }

    @AfterEach
    void stopServer() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void openLoop_sendsRateTimesDuration_andAllSucceed() throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/m/infer", BODY, OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8,
                Duration.ofSeconds(5), 10_000)) {
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
}
