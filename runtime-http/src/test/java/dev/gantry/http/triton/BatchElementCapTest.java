package dev.gantry.http.triton;

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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code gantry.max_batch_elements} as a user sees it: a burst of requests queued behind a held execution runs in
 * batches whose largest input stays within the cap (the statistics extension's {@code batch_stats}), each request
 * gets its own answer, the same model without the cap takes the same burst in bigger batches, and the config
 * route and the model's metadata show the cap.
 */
class BatchElementCapTest {
    /** 64 features per row: a cap of 128 elements holds two rows. */
    static final String CAPPED = "{\"max_batch_size\": 8, \"dynamic_batching\": {}, \"gantry\": {\"max_batch_elements\": 128}}";
    static final String UNCAPPED = "{\"max_batch_size\": 8, \"dynamic_batching\": {}}";
    static final int BURST = 9;
    @TempDir
    static Path dir;
    static GatedExecutors gates = new GatedExecutors();
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", "capped", 1, CAPPED).copy("mlp", "uncapped", 1, UNCAPPED)
                .copy("mlp", "capped_alone", 1, CAPPED);
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data")), gates);
    }

    @AfterEach
    void openGate() {
        gates.open();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aBurst_onTheCappedModel_runsInBatchesOfAtMostTwoRows_whileTheUncappedOneTakesItWhole() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            bodies.add(Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 100 + i), null));
        }

        List<HttpResponse<String>> capped = burst("capped", bodies);
        List<HttpResponse<String>> uncapped = burst("uncapped", bodies);

        for (int i = 0; i < BURST; i++) {
            assertEquals(200, capped.get(i).statusCode(), capped.get(i).body());
            assertEquals(200, uncapped.get(i).statusCode(), uncapped.get(i).body());
            assertArrayEquals(scores(uncapped.get(i)), scores(capped.get(i)), "request " + i + "'s own answer");
        }
        // the held first request ran alone; the eight queued behind it ran as the caps allow
        assertEquals(new TreeMap<>(Map.of(1, 1L, 2, 4L)), batches("capped"));
        assertEquals(new TreeMap<>(Map.of(1, 1L, 8, 1L)), batches("uncapped"));
    }

    @Test
    void aRequestAboveTheCapByItself_runsAlone_andIsAnswered() throws Exception {
        String three = Bodies.fp32Request("features", new long[] {3, 64}, Bodies.randomFloats(3 * 64, 7), null);
        String one = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 8), null);

        List<HttpResponse<String>> answers = burst("capped_alone", List.of(one, three, one, one));

        for (HttpResponse<String> r : answers) {
            assertEquals(200, r.statusCode(), r.body());
        }
        assertEquals(3 * 8, scores(answers.get(1)).length);
        assertEquals(new TreeMap<>(Map.of(1, 1L, 3, 1L, 2, 1L)), batches("capped_alone"));
    }

    @Test
    void configRoute_showsTheCapUnderParameters_andNoneWhenUnset() {
        JsonNode capped = Bodies.parse(server.get("/v2/models/capped/config").body());
        assertEquals("128", capped.get("parameters").get("gantry.max_batch_elements").get("string_value").textValue());
        JsonNode uncapped = Bodies.parse(server.get("/v2/models/uncapped/config").body());
        assertFalse(uncapped.get("parameters").has("gantry.max_batch_elements"), uncapped.toString());
    }

    @Test
    void metadata_showsTheCapInItsBatchingBlock_andZeroWhenUnset() {
        assertEquals(128, Bodies.parse(server.get("/v2/models/capped").body()).get("batching")
                .get("max_batch_elements").intValue());
        assertEquals(0, Bodies.parse(server.get("/v2/models/uncapped").body()).get("batching")
                .get("max_batch_elements").intValue());
    }

    @Test
    void theBundledMinilm_capsItsBatchesAt1024Tokens() {
        HttpResponse<String> r = ServerFixture.shared().get("/v2/models/minilm/config");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("1024", Bodies.parse(r.body()).get("parameters").get("gantry.max_batch_elements")
                .get("string_value").textValue());
        assertEquals(1024, Bodies.parse(ServerFixture.shared().get("/v2/models/minilm").body()).get("batching")
                .get("max_batch_elements").intValue());
    }

    /**
     * Sends the first body and holds its execution at the gate, sends the rest while it is held, waits until all
     * of them are queued, then opens the gate: the rest are grouped from a full queue, not as they trickle in.
     */
    private static List<HttpResponse<String>> burst(String model, List<String> bodies) throws Exception {
        gates.close();
        int before = gates.waiting();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        answers.add(send(model, bodies.get(0)));
        gates.awaitWaiting(before + 1);
        for (String body : bodies.subList(1, bodies.size())) {
            answers.add(send(model, body));
        }
        awaitQueued(model, bodies.size() - 1);
        gates.open();
        List<HttpResponse<String>> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> a : answers) {
            out.add(a.get(30, TimeUnit.SECONDS));
        }
        return out;
    }

    private static CompletableFuture<HttpResponse<String>> send(String model, String body) {
        HttpRequest request = HttpRequest.newBuilder(server.uri("/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return server.client().sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Polls the queue gauge of /metrics until {@code n} requests of {@code model} are queued (fails after 10 s). */
    private static void awaitQueued(String model, int n) throws InterruptedException {
        Pattern gauge = Pattern.compile("^inference_queue_pending\\{[^}]*model=\"" + model + "\"[^}]*\\} (\\S+)$",
                Pattern.MULTILINE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double queued = -1;
        while (System.nanoTime() - deadline < 0) {
            Matcher m = gauge.matcher(server.get("/metrics").body());
            queued = m.find() ? Double.parseDouble(m.group(1)) : -1;
            if (queued >= n) {
                return;
            }
            Thread.sleep(/* millis= */ 5); // polling a gauge no latch exposes
        }
        throw new AssertionError("expected " + n + " requests queued for " + model + ", saw " + queued);
    }

    /** Executions per batch size, from the statistics extension. */
    private static TreeMap<Integer, Long> batches(String model) {
        HttpResponse<String> r = server.get("/v2/models/" + model + "/versions/1/stats");
        assertEquals(200, r.statusCode(), r.body());
        TreeMap<Integer, Long> counts = new TreeMap<>();
        for (JsonNode b : Bodies.parse(r.body()).get("model_stats").get(0).get("batch_stats")) {
            counts.put(b.get("batch_size").intValue(), b.get("compute_infer").get("count").longValue());
        }
        return counts;
    }

    private static float[] scores(HttpResponse<String> r) {
        return Bodies.floats(Bodies.parse(r.body()).get("outputs").get(0).get("data"));
    }
}
