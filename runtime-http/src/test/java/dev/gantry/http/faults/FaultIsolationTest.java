package dev.gantry.http.faults;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                            case "hanging" -> {
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

    static int infer(String model) {
        return server.postJson("/v2/models/" + model + "/infer", Bodies.fp32Request("features", new long[] {1, 64},
                Bodies.randomFloats(64, model.hashCode()), null)).statusCode();
    }

    @Test
    void faultyModels_failOnlyTheirOwnRequests_andTheHealthyModelServesEveryRequest() throws Exception {
        Map<String, Map<Integer, AtomicInteger>> statuses = new ConcurrentHashMap<>();
        List<String> models = List.of("healthy", "throwing", "crashing", "hanging", "unloadable");
        ExecutorService pool = Executors.newFixedThreadPool(10);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            String model = models.get(c % models.size());
            clients.add(pool.submit(() -> {
                while (System.nanoTime() < until) {
                    statuses.computeIfAbsent(model, m -> new ConcurrentHashMap<>())
                            .computeIfAbsent(infer(model), s -> new AtomicInteger()).incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : clients) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        System.out.println("statuses by model: " + statuses);

        Map<Integer, AtomicInteger> healthy = statuses.get("healthy");
        assertEquals(Set.of(200), healthy.keySet(), "healthy model: " + healthy);
        assertTrue(healthy.get(200).get() > 50, "healthy model served " + healthy);
        assertEquals(Set.of(500), statuses.get("throwing").keySet(), "throwing: " + statuses.get("throwing"));
        assertEquals(Set.of(500), statuses.get("crashing").keySet(), "crashing: " + statuses.get("crashing"));
        assertTrue(Set.of(504, 408).containsAll(statuses.get("hanging").keySet()), "hanging: " + statuses.get("hanging"));
        assertTrue(statuses.get("hanging").containsKey(504), "the hung execution is answered 504");
        assertEquals(Set.of(503), statuses.get("unloadable").keySet(), "unloadable: " + statuses.get("unloadable"));

        assertTrue(failures("throwing", "INTERNAL") > 0);
        assertTrue(failures("crashing", "INTERNAL") > 0);
        assertTrue(failures("hanging", "MODEL_TIMEOUT") > 0);
        assertEquals(0, failures("healthy", "INTERNAL") + failures("healthy", "MODEL_TIMEOUT"));
        JsonNode meta = Bodies.parse(server.get("/v2/models/unloadable").body());
        assertEquals("UNAVAILABLE", meta.get("state").asText());
        assertTrue(meta.get("reason").asText().contains("could not load"));
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
