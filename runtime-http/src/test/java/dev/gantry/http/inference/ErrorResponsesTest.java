package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.GatedExecutors;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each error class of the inference API, with its status and a message that names the problem. */
class ErrorResponsesTest {
    @TempDir
    static Path repoDir;
    static GatedExecutors gates = new GatedExecutors();
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(repoDir)
                .copy("mlp", "mlp", 1, "{\"max_batch_size\": 8, \"dynamic_batching\": {\"max_queue_size\": 2}}")
                .copy("mlp", "mlp_small_queue", 1, "{\"max_batch_size\": 8}")
                .broken("broken");
        server = ServerFixture.start(ServerFixture.config(repoDir, repoDir.resolve("data"))
                .withMaxBodyBytes(4096).withBatching(false), gates);
    }

    @AfterEach
    void openGate() {
        gates.open();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String features(int rows) {
        return Bodies.fp32Request("features", new long[] {rows, 64}, Bodies.randomFloats(rows * 64, rows), null);
    }

    static String error(HttpResponse<String> r) {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        return Bodies.parse(r.body()).get("error").asText();
    }

    @Test
    void unknownModel_is404() {
        HttpResponse<String> r = server.postJson("/v2/models/nope/infer", features(1));
        assertEquals(404, r.statusCode());
        assertEquals("unknown model 'nope'", error(r));
    }

    @Test
    void unknownVersion_is404NamingTheVersionsThereAre() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/versions/7/infer", features(1));
        assertEquals(404, r.statusCode());
        assertEquals("model 'mlp' has no version 7; its versions are [1]", error(r));
    }

    @Test
    void versionThatIsNotAPositiveInteger_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/versions/0x1/infer", features(1));
        assertEquals(400, r.statusCode());
        assertTrue(error(r).contains("positive integer"));
    }

    @Test
    void unknownInput_is400NamingTheModelsInputs() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer",
                Bodies.fp32Request("feature", new long[] {1, 64}, new float[64], null));
        assertEquals(400, r.statusCode());
        assertEquals("unknown input 'feature'; the model's inputs are [features]", error(r));
    }

    @Test
    void wrongDatatype_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer",
                "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"INT64\",\"data\":" + zeros(64) + "}]}");
        assertEquals(400, r.statusCode());
        assertEquals("input 'features' expects FP32, got INT64", error(r));
    }

    @Test
    void wrongShape_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer",
                Bodies.fp32Request("features", new long[] {1, 63}, new float[63], null));
        assertEquals(400, r.statusCode());
        assertTrue(error(r).contains("expects shape [*, 64], got [1, 63]"), error(r));
    }

    @Test
    void elementCountThatDisagreesWithTheShape_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer",
                Bodies.fp32Request("features", new long[] {1, 64}, new float[65], null));
        assertEquals(400, r.statusCode());
        assertTrue(error(r).contains("features"), error(r));
    }

    @Test
    void missingInput_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer", "{\"inputs\":[]}");
        assertEquals(400, r.statusCode());
        error(r);
    }

    @Test
    void batchLargerThanMaxBatchSize_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp_small_queue/infer",
                Bodies.fp32Request("features", new long[] {9, 64}, new float[9 * 64], null));
        assertEquals(400, r.statusCode());
        assertTrue(error(r).contains("1 to 8 rows"), error(r));
    }

    @Test
    void bodyLargerThanTheLimit_is413() {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer", features(8));
        assertEquals(413, r.statusCode());
        assertTrue(error(r).contains("exceeds the limit of 4096 bytes"), error(r));
        assertEquals(200, server.postJson("/v2/models/mlp/infer", features(1)).statusCode(), "server still serves");
    }

    @Test
    void wrongContentType_is415() {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v2/models/mlp/infer"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(features(1))).build());
        assertEquals(415, r.statusCode());
        assertTrue(error(r).contains("text/plain"));
    }

    @Test
    void modelThatFailedToLoad_is503WithTheReasonAndInMetadata() {
        HttpResponse<String> r = server.postJson("/v2/models/broken/infer", features(1));
        assertEquals(503, r.statusCode());
        assertTrue(error(r).contains("UNAVAILABLE"), error(r));
        JsonNode meta = Bodies.parse(server.get("/v2/models/broken").body());
        assertEquals("UNAVAILABLE", meta.get("state").asText());
        assertTrue(meta.get("reason").asText().contains("could not load"), meta.toString());
        assertEquals(400, server.get("/v2/models/broken/ready").statusCode());
        assertEquals(200, server.get("/v2/health/ready").statusCode(), "one broken model keeps the server ready");
    }

    @Test
    void fullQueue_is429WithRetryAfter_andAdmittedRequestsStillComplete() throws Exception {
        gates.close();
        List<CompletableFuture<HttpResponse<String>>> admitted = new ArrayList<>();
        admitted.add(postAsync("/v2/models/mlp/infer", features(1)));
        gates.awaitWaiting(1);
        admitted.add(postAsync("/v2/models/mlp/infer", features(1)));
        admitted.add(postAsync("/v2/models/mlp/infer", features(1)));
        awaitQueued("mlp", 2);
        HttpResponse<String> refused = server.postJson("/v2/models/mlp/infer", features(1));
        assertEquals(429, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(error(refused).contains("max_queue_size"), error(refused));
        gates.open();
        for (CompletableFuture<HttpResponse<String>> f : admitted) {
            assertEquals(200, f.get().statusCode());
        }
    }

    @Test
    void requestWhoseTimeoutPassesInTheQueue_isAnswered408AndNeverExecuted() throws Exception {
        gates.close();
        CompletableFuture<HttpResponse<String>> first = postAsync("/v2/models/mlp/infer", features(1));
        gates.awaitWaiting(1);
        int before = gates.executions();
        HttpResponse<String> expired = server.postJson("/v2/models/mlp/infer",
                Bodies.fp32Request("features", new long[] {1, 64}, new float[64], "\"parameters\":{\"timeout\":20000}"));
        assertEquals(408, expired.statusCode());
        assertTrue(error(expired).contains("it was not executed"), error(expired));
        gates.open();
        assertEquals(200, first.get().statusCode());
        assertEquals(before + 1, gates.executions(), "only the first request ran");
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(String path, String json) {
        return server.client().sendAsync(HttpRequest.newBuilder(server.uri(path)).header("Content-Type",
                "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitQueued(String model, int n) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            var gauge = server.server().registry().find("inference.queue.pending").tag("model", model).gauge();
            if (gauge != null && gauge.value() >= n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("queue of " + model + " never reached " + n);
            }
            Thread.onSpinWait();
        }
    }

    private static String zeros(int n) {
        return "[" + "0,".repeat(n - 1) + "0]";
    }
}
