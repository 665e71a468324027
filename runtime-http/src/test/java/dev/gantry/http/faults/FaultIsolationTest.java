package dev.gantry.http.faults;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.hardening.RawHttp;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models that throw, crash their predictor, hang, or fail to load, served beside a healthy one: only their own
 * requests fail, each failure is counted by reason, and the healthy model's success rate stays at 100%.
 */
class FaultIsolationTest {
    /** Faults switch on after start, so every model passes its warm-up and loads READY. */
    static final AtomicBoolean armed = new AtomicBoolean();
    static final CountDownLatch release = new CountDownLatch(1);

    @TempDir
    static Path dir;
    static ServerFixture server;

    /** Wraps real ORT models; the model directory's name says which fault it has. */
    static final class FaultyModels implements ExecutorFactory {
        private final ExecutorFactory real = ExecutorFactory.onnxRuntime();

        @Override
        public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
            ModelExecutor inner = real.load(versionDir, fileName, settings);
            String model = versionDir.getParent().getFileName().toString();
            return new ModelExecutor() {
                @Override
                public ModelSignature signature() {
                    return inner.signature();
                }

                @Override
                public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                    if (armed.get()) {
                        switch (model) {
                            case "throwing" -> throw new IllegalStateException("model bug: index 7 out of range");
                            case "crashing" -> throw new StackOverflowError("predictor crashed");
                            case "hanging", "hanging-too" -> {
                                try {
                                    release.await();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                            default -> {
                            }
                        }
                    }
                    return inner.run(inputs, outputs);
                }

                @Override
                public void close() {
                    inner.close();
                }
            };
        }
    }

    @BeforeAll
    static void start() throws Exception {
        String config = "{\"max_batch_size\": 8}";
        new TempRepository(dir.resolve("models"))
                .copy("mlp", "healthy", 1, config)
                .copy("mlp", "throwing", 1, config)
                .copy("mlp", "crashing", 1, config)
                .copy("mlp", "hanging", 1, config)
                .copy("mlp", "hanging-too", 1, config) // its own, so the order of the tests does not matter
                .broken("unloadable");
        ServerConfig c = ServerFixture.config(dir.resolve("models"), dir.resolve("data"));
        c = c.withLimits(c.limits().withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(500)));
        server = ServerFixture.start(c, new FaultyModels());
        armed.set(true);
    }

    @AfterAll
    static void stop() {
        release.countDown();
        server.close();
    }

    /** An inference request for {@code model}, as the bytes a client sends on a kept-alive connection. */
    static byte[] inferRequest(String model) {
        byte[] json = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, model.hashCode()),
                null).getBytes(StandardCharsets.UTF_8);
        return RawHttp.request("POST", "/v2/models/" + model + "/infer", "Content-Type: application/json\r\n", json);
    }

    /**
     * One client: sends {@code model}'s request on one kept-alive connection until {@code until}, counting each
     * answer's status. A connection the server ends without saying so (closed, reset, or silent past the read
     * timeout) is counted as the outcome's name and recorded in {@code lost}; the client then reconnects.
     */
    static void client(String model, long until, Map<String, Map<String, AtomicInteger>> statuses,
                       List<String> lost) throws IOException {
        byte[] request = inferRequest(model);
        Socket s = null;
        InputStream in = null;
        try {
            while (System.nanoTime() < until) {
                if (s == null) {
                    s = RawHttp.connect(server.server().port(), 30_000);
                    in = new BufferedInputStream(s.getInputStream());
                }
                RawHttp.Reply reply;
                try {
                    s.getOutputStream().write(request);
                    reply = RawHttp.read(in);
                } catch (IOException e) {
                    reply = RawHttp.Reply.of(RawHttp.Outcome.RESET, "write: " + e);
                }
                String outcome = reply.outcome() == RawHttp.Outcome.RESPONSE ? Integer.toString(reply.status())
                        : reply.outcome().name();
                statuses.computeIfAbsent(model, m -> new ConcurrentHashMap<>())
                        .computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                boolean announcedClose = reply.outcome() == RawHttp.Outcome.RESPONSE
                        && "close".equalsIgnoreCase(reply.header("connection"));
                if (reply.outcome() != RawHttp.Outcome.RESPONSE) {
                    lost.add(model + ": " + reply);
                }
                if (announcedClose || reply.outcome() != RawHttp.Outcome.RESPONSE) {
                    s.close();
                    s = null;
                }
            }
        } finally {
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    void faultyModels_failOnlyTheirOwnRequests_andTheHealthyModelServesEveryRequest() throws Exception {
        // Raw sockets rather than java.net.http: each client keeps one connection for the whole run, so the test
        // also sees whether an error answer ever costs a client its connection. (The JDK client, reusing pooled
        // connections under this load, once failed a request with "header parser received no bytes" while the
        // server had answered every request on a connection it kept open; see everyErrorAnswer_keepsItsConnection.)
        Map<String, Map<String, AtomicInteger>> statuses = new ConcurrentHashMap<>();
        List<String> lost = new CopyOnWriteArrayList<>();
        List<String> models = List.of("healthy", "throwing", "crashing", "hanging", "unloadable");
        ExecutorService pool = Executors.newFixedThreadPool(10);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            String model = models.get(c % models.size());
            clients.add(pool.submit(() -> {
                client(model, until, statuses, lost);
                return null;
            }));
        }
        for (Future<?> f : clients) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        System.out.println("statuses by model: " + statuses);

        assertEquals(0, lost.size(), lost.size() + " connections ended without an answer, such as "
                + lost.subList(0, Math.min(5, lost.size())));
        Map<String, AtomicInteger> healthy = statuses.get("healthy");
        assertEquals(Set.of("200"), healthy.keySet(), "healthy model: " + healthy);
        assertTrue(healthy.get("200").get() > 50, "healthy model served " + healthy);
        assertEquals(Set.of("500"), statuses.get("throwing").keySet(), "throwing: " + statuses.get("throwing"));
        assertEquals(Set.of("500"), statuses.get("crashing").keySet(), "crashing: " + statuses.get("crashing"));
        assertTrue(Set.of("504", "408").containsAll(statuses.get("hanging").keySet()),
                "hanging: " + statuses.get("hanging"));
        assertTrue(statuses.get("hanging").containsKey("504"), "the hung execution is answered 504");
        assertEquals(Set.of("503"), statuses.get("unloadable").keySet(), "unloadable: " + statuses.get("unloadable"));

        assertTrue(failures("throwing", "INTERNAL") > 0);
        assertTrue(failures("crashing", "INTERNAL") > 0);
        assertTrue(failures("hanging", "MODEL_TIMEOUT") > 0);
        assertEquals(0, failures("healthy", "INTERNAL") + failures("healthy", "MODEL_TIMEOUT"));
        JsonNode meta = Bodies.parse(server.get("/v2/models/unloadable").body());
        assertEquals("UNAVAILABLE", meta.get("state").asText());
        assertTrue(meta.get("reason").asText().contains("could not load"));
    }

    /**
     * Every error answer leaves its connection open for the next request: a client's pooled connection must never
     * be closed behind its back after an answer that did not say "Connection: close", or the client's next request
     * on it fails with no answer at all.
     */
    @Test
    void everyErrorAnswer_keepsItsConnection_forTheNextRequest() throws IOException {
        Map<String, Integer> expected = Map.of("healthy", 200, "throwing", 500, "crashing", 500,
                "hanging-too", 408, "unloadable", 503, "no-such-model", 404);
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            String model = e.getKey();
            try (Socket s = RawHttp.connect(server.server().port(), 30_000)) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                for (int i = 0; i < 3; i++) {
                    s.getOutputStream().write(inferRequest(model));
                    RawHttp.Reply reply = RawHttp.read(in);
                    assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), model + " request " + i + ": " + reply);
                    // The first request to the hanging model is the run that hangs (504); the next wait behind it (408).
                    int status = model.equals("hanging-too") && i == 0 ? 504 : e.getValue();
                    assertEquals(status, reply.status(), model + " request " + i + ": " + reply);
                    assertEquals(null, reply.header("connection"), model + " request " + i + ": " + reply.headers());
                }
                // Still open a moment later: the server did not close it after the answer.
                s.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, in::read, model + ": the connection was closed");
            }
        }
    }

    @Test
    void throwingModel_answersWithTheModelsMessage() {
        HttpResponse<String> r = server.postJson("/v2/models/throwing/infer", Bodies.fp32Request("features",
                new long[] {1, 64}, new float[64], null));
        assertEquals(500, r.statusCode());
        assertTrue(Bodies.parse(r.body()).get("error").asText().contains("model bug"), r.body());
    }

    private static double failures(String model, String code) {
        var t = server.server().registry().find("inference.request.duration")
                .tags("model", model, "outcome", "error", "error", code).timer();
        return t == null ? 0 : t.count();
    }
}
