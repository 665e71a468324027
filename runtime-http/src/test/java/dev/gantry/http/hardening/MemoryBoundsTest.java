package dev.gantry.http.hardening;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a client sends or declares cannot make the server hold memory beyond the request in flight. Heap is
 * measured in this JVM, which also runs the server, as the heap used after a full collection.
 */
@Timeout(180)
class MemoryBoundsTest {
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_CLIENT_TIMEOUT = Duration.ofHours(2);
    private static final long ONE_HOUR_MICROS = TimeUnit.HOURS.toMicros(1);
    private static final long MiB = 1 << 20;

    private static ServerFixture server;

    @BeforeAll
    static void start() throws IOException {
        Path root = Files.createTempDirectory(Path.of("target"), "memory-bounds");
        TempRepository repo = new TempRepository(root.resolve("models"));
        repo.copy("mlp", "mlp", 1, Files.readString(ServerFixture.MODELS.resolve("mlp").resolve("config.json")));
        ServerConfig.Limits d = ServerConfig.Limits.defaults();
        ServerConfig.Limits limits = new ServerConfig.Limits(d.maxBodyBytes(),
                CodecLimits.defaults().withMaxTimeout(MAX_CLIENT_TIMEOUT), d.maxHeaderBytes(), d.headerTimeout(),
                BODY_TIMEOUT, d.requestTimeout(), d.idleTimeout());
        server = ServerFixture.start(ServerFixture.config(repo.root(), root.resolve("data")).withLimits(limits),
                ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void completedRequestsWithAnHourTimeout_leaveTheLiveHeapNearIdle() throws Exception {
        // 64 x 64 floats per request: 16 KiB in. Were completed requests kept reachable (by their timeout task or
        // anything else), 2,000 of them would hold ~40 MiB.
        float[] data = Bodies.randomFloats(64 * 64, 7);
        String body = Bodies.fp32Request("features", new long[] {64, 64}, data,
                "\"parameters\":{\"timeout\":" + ONE_HOUR_MICROS + "}");
        assertEquals(200, server.postJson("/v2/models/mlp/infer", body).statusCode());
        long idle = liveHeap();

        Semaphore window = new Semaphore(8);
        List<CompletableFuture<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            window.acquire();
            answers.add(server.client().sendAsync(HttpRequest.newBuilder(server.uri("/v2/models/mlp/infer"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.discarding()).thenApply(HttpResponse::statusCode)
                    .whenComplete((s, e) -> window.release()));
        }
        for (CompletableFuture<Integer> a : answers) {
            assertEquals(200, a.get(60, TimeUnit.SECONDS));
        }
        long after = liveHeap();

        assertTrue(after - idle < 8 * MiB, "live heap grew by " + (after - idle) / MiB + " MiB over 2,000 completed"
                + " requests (idle " + idle / MiB + " MiB, after " + after / MiB + " MiB)");
    }

    @Test
    void connectionsDeclaring64MiBBodiesAndSendingNothing_holdOnlyAFewMiB() throws Exception {
        long idle = liveHeap();
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                Socket s = RawHttp.connect(server.server().port(), 10_000);
                sockets.add(s);
                OutputStream out = s.getOutputStream();
                out.write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + (64 * MiB) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            // Every head has been read once the server answers a request sent after them on its single event loop.
            assertEquals(200, server.get("/v2/health/live").statusCode());
            long held = liveHeap();

            assertTrue(held - idle < 4 * MiB, "64 idle bodies hold " + (held - idle) / MiB + " MiB (idle "
                    + idle / MiB + " MiB, with them " + held / MiB + " MiB)");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void shapeWithAMillionDimensions_isRefusedWith400AndAShortMessage() {
        String shape = "[" + "1,".repeat(999_999) + "1]";
        String body = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":" + shape
                + ",\"data\":[1]}]}";

        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer", body);

        assertEquals(400, r.statusCode());
        assertEquals("{\"error\":\"input 'features' shape has more than 16 dimensions; the limit is 16\"}", r.body());
    }

    @Test
    void clientTimeoutAboveTheCap_isRefusedWith400NamingTheCap() {
        String body = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 1),
                "\"parameters\":{\"timeout\":" + 3 * ONE_HOUR_MICROS + "}");

        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer", body);

        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("this server allows at most 7200000000 us (--max-request-timeout-ms 7200000)"),
                r.body());
    }

    @Test
    void adminBodyThatStopsArriving_isAnswered408AfterTheBodyTimeout() throws Exception {
        try (Socket s = RawHttp.connect(server.server().port(), (int) BODY_TIMEOUT.toMillis() + 10_000)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /admin/v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"name\":").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();

            RawHttp.Reply reply = RawHttp.read(s.getInputStream());

            assertEquals(408, reply.status(), reply.toString());
            assertTrue(reply.bodyText().contains("--body-timeout-ms"), reply.toString());
        }
    }

    /** Heap in use after full collections: what is still reachable. */
    private static long liveHeap() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
