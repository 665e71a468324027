package dev.gantry.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.bench.oip.ModelDirs;
import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.http.GantryServer;
import dev.gantry.http.ServerConfig;
import io.micrometer.core.instrument.Counter;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The bad-candidate rollout arm: an in-process Gantry (fallback on) serving mlp version 1 under open-loop load,
 * then a rollout of version 2, which fails 20% of its executions (fault injection), while the load goes on.
 * Reports the time from the rollout's start to its automatic rollback, the requests that reached the bad
 * version, the errors clients saw (goal 0 with fallback), and p50/p99 during the rollout vs steady.
 *
 * <p>Run (about 40 s): {@code mvn -B -o -pl benchmarks -am package -DskipTests && java
 * --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar dev.gantry.bench.load.RolloutBenchmark
 * [rate=300] [steady=10] [during=15]}
 */
public final class RolloutBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RolloutBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double rate = args.length > 0 ? Double.parseDouble(args[0]) : 300;
        int steady = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int during = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Path dir = Files.createTempDirectory("gantry-rollout-bench");
        Path models = dir.resolve("models");
        Path mlp = ModelDirs.version1(ModelDirs.repository(), "mlp").resolve("model.onnx");
        for (long v : List.of(1L, 2L)) {
            Files.createDirectories(models.resolve("mlp").resolve(Long.toString(v)));
            Files.copy(mlp, models.resolve("mlp").resolve(Long.toString(v)).resolve("model.onnx"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(models.resolve("mlp").resolve("config.json"), "{\"max_batch_size\": 64, "
                + "\"dynamic_batching\": {}, \"version_policy\": {\"specific\": {\"versions\": [1]}}}");
        FailingCandidate factory = new FailingCandidate();
        ServerConfig config = ServerConfig.defaults().withPort(0).withModels(models).withDataDir(dir.resolve("data"))
                .withSecurity(ServerConfig.Security.defaults().withAccessLog("off")).withFallback(true);
        GantryServer server = GantryServer.create(config, factory);
        server.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        server.modelsSettled().get(120, TimeUnit.SECONDS);
        String base = "http://127.0.0.1:" + server.port();
        HttpClient admin = HttpClient.newHttpClient();
        send(admin, "POST", base + "/admin/v1/models/mlp/versions/2/load", "{}");
        factory.armed = true;
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", server.port(), 16, Duration.ofSeconds(10),
                10_000)) {
            LoadRequest request = Workload.MLP.request();
            Measurement steadyRun = gen.openLoop(request, rate, Duration.ofSeconds(steady));
            JsonNode started = send(admin, "POST", base + "/admin/v1/models/mlp/rollouts", "{\"candidate\": 2, "
                    + "\"steps\": [{\"weight\": 10, \"duration\": \"10s\", \"min_requests\": 300}, "
                    + "{\"weight\": 50, \"duration\": \"10s\", \"min_requests\": 300}, {\"weight\": 100}]}");
            String id = started.path("id").asText();
            Measurement duringRun = gen.openLoop(request, rate, Duration.ofSeconds(during));
            JsonNode end = send(admin, "GET", base + "/admin/v1/models/mlp/rollouts/" + id, null);
            double toDetection = Duration.between(Instant.parse(end.path("created_at").asText()),
                    Instant.parse(end.path("updated_at").asText())).toMillis() / 1000.0;
            double reached = server.registry().find("routing.requests").tags("model", "mlp", "version", "2")
                    .counters().stream().mapToDouble(Counter::count).sum();
            System.out.printf(Locale.ROOT, "rollout arm: mlp, open loop %.0f req/s, candidate v2 fails 20%% of "
                    + "executions, fallback on%n", rate);
            System.out.printf(Locale.ROOT, "  rollout %s ended %s after %.2f s (step %d): %s%n", id,
                    end.path("state").asText(), toDetection, end.path("step").asInt(), end.path("reason").asText());
            System.out.printf(Locale.ROOT, "  requests routed to the bad version: %.0f (executions run: %d)%n",
                    reached, factory.candidateRuns.get());
            System.out.printf(Locale.ROOT, "  client-visible errors: steady %d of %d, during %d of %d %s%n",
                    steadyRun.errors(), steadyRun.sent(), duringRun.errors(), duringRun.sent(),
                    duringRun.errorKinds());
            System.out.printf(Locale.ROOT, "  latency (intended start, CO-corrected) p50/p99/max ms: steady "
                            + "%.2f/%.2f/%.2f, during %.2f/%.2f/%.2f%n",
                    steadyRun.percentileMillis(50), steadyRun.percentileMillis(99), steadyRun.maxMillis(),
                    duringRun.percentileMillis(50), duringRun.percentileMillis(99), duringRun.maxMillis());
        } finally {
            server.stop().orTimeout(60, TimeUnit.SECONDS).join();
        }
    }

    private static JsonNode send(HttpClient c, String method, String url, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = c.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(method + " " + url + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** ONNX Runtime, with version 2 of every model failing 20% of its executions once armed. */
    static final class FailingCandidate implements ExecutorFactory {
        private final ExecutorFactory real = ExecutorFactory.onnxRuntime();
        volatile boolean armed;
        final java.util.concurrent.atomic.AtomicLong candidateRuns = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
            ModelExecutor inner = real.load(versionDir, fileName, settings);
            boolean candidate = versionDir.getFileName().toString().equals("2");
            return new ModelExecutor() {
                @Override
                public ModelSignature signature() {
                    return inner.signature();
                }

                @Override
                public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                    if (candidate && armed) {
                        candidateRuns.incrementAndGet();
                        if (ThreadLocalRandom.current().nextDouble() < 0.2) {
                            throw new IllegalStateException("injected failure");
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
}
