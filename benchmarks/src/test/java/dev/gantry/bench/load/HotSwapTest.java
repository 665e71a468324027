package dev.gantry.bench.load;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hot swap scenario against a fake Gantry that records the admin calls and routes by the last policy. */
class HotSwapTest {
    private Vertx vertx;
    private HttpServer server;
    private final List<String> adminCalls = new CopyOnWriteArrayList<>();
    /** The version answering inference requests; the fake moves all traffic to a policy's heaviest route. */
    private volatile String serving = "2";
    private volatile boolean refuseTraffic;

    @BeforeEach
    void startFakeGantry() {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> handle(req, body)))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
    }

    private void handle(HttpServerRequest req, Buffer body) {
        String path = req.path();
        if (path.equals("/v2/models/classifier/infer")) {
            req.response().putHeader("Gantry-Model-Version", serving).end("{}");
            return;
        }
        if (path.equals("/admin/v1/models/classifier") && req.method().name().equals("GET")) {
            req.response().end("{\"name\":\"classifier\",\"versions\":[{\"version\":\"1\",\"state\":\"READY\"},"
                    + "{\"version\":\"2\",\"state\":\"READY\"}],\"revision\":7,\"policy\":{\"routes\":[{\"version\":\""
                    + serving + "\",\"weight\":100}],\"shadow\":[]},\"standby\":[]}");
            return;
        }
        adminCalls.add(req.method().name() + " " + path + " " + body);
        if (path.endsWith("/traffic")) {
            if (refuseTraffic) {
                req.response().setStatusCode(409).end("{\"error\":\"version 1 is not READY\"}");
                return;
            }
            serving = body.toString().contains("\"weight\":100") ? "1" : serving;
            req.response().end("{\"revision\":8}");
        } else if (path.endsWith("/rollback")) {
            serving = "2";
            req.response().end("{\"from\":10,\"to\":7,\"revision\":11}");
        } else {
            req.response().setStatusCode(404).end();
        }
    }

    @AfterEach
    void stop() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private HotSwap.Result run() throws Exception {
        LoadRequest request = new LoadRequest("/v2/models/classifier/infer", Buffer.buffer("{}"), OptionalLong.empty());
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.actualPort(), 8, Duration.ofSeconds(5),
                10_000)) {
            return new HotSwap(URI.create("http://127.0.0.1:" + server.actualPort()), "classifier")
                    .run(gen, request, 200, Duration.ofMillis(300), Duration.ofMillis(200));
        }
    }

    @Test
    void run_shiftsTrafficInSteps_thenRollsBackToTheStartingRevision() throws Exception {
        HotSwap.Result r = run();

        assertEquals(List.of(
                "PUT /admin/v1/models/classifier/traffic {\"routes\":[{\"version\":\"2\",\"weight\":90},"
                        + "{\"version\":\"1\",\"weight\":10}],\"reason\":\"benchmark hot swap\"}",
                "PUT /admin/v1/models/classifier/traffic {\"routes\":[{\"version\":\"2\",\"weight\":50},"
                        + "{\"version\":\"1\",\"weight\":50}],\"reason\":\"benchmark hot swap\"}",
                "PUT /admin/v1/models/classifier/traffic {\"routes\":[{\"version\":\"1\",\"weight\":100}],"
                        + "\"reason\":\"benchmark hot swap\"}",
                "POST /admin/v1/models/classifier/rollback {\"to_revision\":7}"), adminCalls);
        assertTrue(r.valid(), () -> "calls " + r.calls() + ", error " + r.error());
        assertEquals("2", r.from());
        assertEquals("1", r.to());
        assertEquals(0, r.swap().errors());
        assertTrue(r.swap().servedBy().containsKey("1") && r.swap().servedBy().containsKey("2"),
                () -> "answers per version " + r.swap().servedBy());
        assertTrue(r.rollbackMillis() >= 0);
        assertEquals(60, r.steady().sent());
        assertEquals(200, r.swap().sent(), "the swap window lasts (steps + 1) intervals");
    }

    @Test
    void prepare_readsTheModel_andChangesNothing() throws Exception {
        HotSwap hotSwap = new HotSwap(URI.create("http://127.0.0.1:" + server.actualPort()), "classifier");

        assertEquals(7, hotSwap.prepare().path("revision").asLong());
        assertEquals(List.of(), adminCalls, "prepare must send no change");
    }

    @Test
    void run_reportsEachWindowsSlowestSlices() throws Exception {
        HotSwap.Result r = run();

        assertFalse(r.steadyWindow().slowest().isEmpty());
        assertFalse(r.swapWindow().slowest().isEmpty());
        assertEquals("", r.steadyWindow().load(), "no server process and no generator to read");
    }

    @Test
    void run_whenAnAdminCallIsRefused_isNotValid() throws Exception {
        refuseTraffic = true;

        HotSwap.Result r = run();

        assertFalse(r.valid());
        assertEquals(409, r.calls().getFirst().status());
    }
}
