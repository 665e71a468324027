package dev.gantry.http.deploy;

import dev.gantry.core.metrics.MetricNames;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static dev.gantry.http.deploy.DeployApi.routes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shadow traffic never touches the primary path: a shadow that fails or blocks changes neither the primary's
 * answers nor its availability, a full shadow queue drops copies (and counts them), and a healthy shadow's
 * answers are compared with the primary's. Version 1 of each model is primary, version 2 its shadow.
 */
class ShadowTrafficTest {
    static final int SHADOW_QUEUE = 4;
    static final String OUTPUTS = "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]";

    @TempDir
    static Path dir;
    static FaultyExecutors executors = new FaultyExecutors();
    static ServerFixture server;
    static DeployApi api;

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String model : List.of("failing", "blocking", "healthy")) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
        }
        ServerConfig c = ServerFixture.config(repo.root(), dir.resolve("data"));
        c = new ServerConfig(c.host(), c.port(), c.modelsDir(), c.dataDir(), c.eventLoops(), c.workerThreads(),
                c.execution(), c.batching(), c.defaultQueueSize(), c.drainTimeout(), c.standbyCount(),
                /* shadowQueueSize= */ SHADOW_QUEUE, c.limits(), c.security(), c.fallback());
        server = ServerFixture.start(c, executors);
        api = DeployApi.of(server);
        for (String model : List.of("failing", "blocking", "healthy")) {
            api.load(model, 2);
        }
    }

    @AfterAll
    static void stop() {
        executors.release();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void failingShadow_leavesPrimaryAnswersBitIdentical_andFailsNoPrimaryRequest() {
        int n = 100;
        byte[][] without = new byte[n][];
        for (int i = 0; i < n; i++) {
            without[i] = primaryOutput("failing", i);
        }
        executors.arm("failing", 2, FaultyExecutors.Fault.FAIL);
        ok(api.traffic("failing", shadowPolicy()));

        for (int i = 0; i < n; i++) {
            assertArrayEquals(without[i], primaryOutput("failing", i), "request " + i + " changed under shadow");
        }

        awaitTrue(() -> shadowRequests("failing", "error") + dropped("failing") == n,
                () -> "every copy should end as a shadow error or a drop: errors " + shadowRequests("failing", "error")
                        + ", dropped " + dropped("failing"));
        assertTrue(shadowRequests("failing", "error") > 0, "the failing shadow should have been tried");
        assertEquals(0, shadowRequests("failing", "agree") + shadowRequests("failing", "disagree"));
        assertTrue(executors.runs("failing", 2) > 0, "the shadow version should have been executed");
    }

    @Test
    void blockedShadow_holdsOnlyItsOwnThread_primaryRequestsComplete_andFullQueueDropsCopies() {
        executors.arm("blocking", 2, FaultyExecutors.Fault.BLOCK);
        ok(api.traffic("blocking", shadowPolicy()));
        int n = 50;
        try {
            assertEquals(200, infer("blocking", 0).statusCode());
            executors.awaitBlocked(1);

            long[] nanos = new long[n];
            for (int i = 0; i < n; i++) {
                long start = System.nanoTime();
                HttpResponse<byte[]> r = infer("blocking", i + 1);
                nanos[i] = System.nanoTime() - start;
                assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
                assertEquals("1", r.headers().firstValue("Gantry-Model-Version").orElse("missing"));
            }

            Arrays.sort(nanos);
            System.out.printf("primary latency while the shadow is blocked: p50 %.2f ms, max %.2f ms over %d"
                    + " requests%n", nanos[n / 2] / 1e6, nanos[n - 1] / 1e6, n);
            assertEquals(1, executors.blocked(), "the shadow should still be blocked after the primaries answered");
            assertEquals(n - SHADOW_QUEUE, dropped("blocking"),
                    "with the shadow thread held, the queue takes " + SHADOW_QUEUE + " copies and drops the rest");
        } finally {
            executors.release();
        }
        awaitTrue(() -> shadowRequests("blocking", "agree") == 1 + SHADOW_QUEUE,
                () -> "after release the held and the queued copies should be compared: agree "
                        + shadowRequests("blocking", "agree") + ", error " + shadowRequests("blocking", "error"));
    }

    @Test
    void healthyShadow_ofTheSameModel_countsAgreement() {
        ok(api.traffic("healthy", shadowPolicy()));
        int n = 40;

        for (int i = 0; i < n; i++) {
            assertEquals(200, infer("healthy", i).statusCode());
        }

        awaitTrue(() -> shadowRequests("healthy", "agree") + dropped("healthy") == n,
                () -> "agree " + shadowRequests("healthy", "agree") + ", dropped " + dropped("healthy")
                        + ", disagree " + shadowRequests("healthy", "disagree")
                        + ", error " + shadowRequests("healthy", "error"));
        assertTrue(shadowRequests("healthy", "agree") > 0);
        assertEquals(0, shadowRequests("healthy", "disagree") + shadowRequests("healthy", "error"));
    }

    private static String shadowPolicy() {
        return routes(1, 100).replace("]}", "],\"shadow\":[{\"version\":2,\"percent\":100}]}");
    }

    private static HttpResponse<byte[]> infer(String model, long seed) {
        long[] headerLength = new long[1];
        byte[] body = Bodies.fp32Binary("features", new long[] {1, 64}, Bodies.randomFloats(64, seed), OUTPUTS,
                headerLength);
        return api.inferBinary(model, body, headerLength[0]);
    }

    /** The raw output bytes of one primary answer, which must be 200 from version 1. */
    private static byte[] primaryOutput(String model, long seed) {
        HttpResponse<byte[]> r = infer(model, seed);
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("1", r.headers().firstValue("Gantry-Model-Version").orElse("missing"));
        int h = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        return Arrays.copyOfRange(r.body(), h, r.body().length);
    }

    private static double shadowRequests(String model, String outcome) {
        Counter c = server.server().registry().find(MetricNames.SHADOW_REQUESTS.meterName()).tag("model", model)
                .tag("version", "2").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    private static double dropped(String model) {
        Counter c = server.server().registry().find(MetricNames.SHADOW_DROPPED.meterName()).tag("model", model)
                .tag("version", "2").counter();
        return c == null ? 0 : c.count();
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> message) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(message.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
