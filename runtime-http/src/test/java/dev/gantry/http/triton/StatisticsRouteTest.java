package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The statistics extension, {@code GET /v2/models[/{m}[/versions/{v}]]/stats}: Triton's field names and types,
 * counts that follow the requests sent, and the same numbers as {@code /metrics}.
 */
class StatisticsRouteTest {
    static final String CONFIG = "{\"max_batch_size\": 8, \"dynamic_batching\": {}}";
    @TempDir
    static Path dir;
    static ServerFixture server;
    static long before;
    static long after;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", "counted", 1, CONFIG).copy("mlp", "idle", 1, CONFIG)
                .copy("mlp", "stats", 1, CONFIG);
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        before = System.currentTimeMillis();
        // Sequential requests: each is its own execution. Rows 1, 2 and 1.
        for (int rows : new int[] {1, 2, 1}) {
            infer("counted", rows);
        }
        after = System.currentTimeMillis();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static void infer(String model, int rows) {
        HttpResponse<String> r = server.postJson("/v2/models/" + model + "/infer", Bodies.fp32Request("features",
                new long[] {rows, 64}, Bodies.randomFloats(rows * 64, rows), null));
        assertEquals(200, r.statusCode(), r.body());
    }

    static JsonNode stats(String path) {
        HttpResponse<String> r = server.get(path);
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }

    @Test
    void versionStats_countRequestsRowsAndExecutions_withTritonsFieldNamesAndTypes() {
        JsonNode list = stats("/v2/models/counted/versions/1/stats").get("model_stats");
        assertEquals(1, list.size());
        JsonNode m = list.get(0);
        assertEquals("counted", m.get("name").textValue());
        assertEquals("1", m.get("version").textValue(), "version is a string, as in Triton");
        assertEquals(4, m.get("inference_count").longValue(), "rows of successful requests");
        assertEquals(3, m.get("execution_count").longValue());
        long last = m.get("last_inference").longValue();
        assertTrue(last >= before && last <= after, "last_inference " + last + " is ms since the epoch");
        JsonNode s = m.get("inference_stats");
        for (String field : List.of("success", "queue", "compute_input", "compute_infer", "compute_output")) {
            assertEquals(3, s.get(field).get("count").longValue(), field);
            assertTrue(s.get(field).get("ns").isIntegralNumber(), field + ".ns is an integer");
        }
        assertTrue(s.get("success").get("ns").longValue() > 0);
        assertTrue(s.get("compute_infer").get("ns").longValue() > 0);
        // Converting into and out of ONNX Runtime's tensors takes time of its own, apart from the model's run.
        assertTrue(s.get("compute_input").get("ns").longValue() > 0, s.toString());
        assertTrue(s.get("compute_output").get("ns").longValue() > 0, s.toString());
        assertEquals(0, s.get("fail").get("count").longValue());
        assertEquals(0, s.get("cache_hit").get("count").longValue());
        assertEquals(0, s.get("cache_miss").get("count").longValue());
        JsonNode batches = m.get("batch_stats");
        assertEquals(2, batches.size(), batches.toString());
        assertEquals(1, batches.get(0).get("batch_size").intValue());
        assertEquals(2, batches.get(0).get("compute_infer").get("count").longValue());
        assertEquals(2, batches.get(1).get("batch_size").intValue());
        assertEquals(1, batches.get(1).get("compute_infer").get("count").longValue());
        assertTrue(batches.get(0).get("compute_infer").get("ns").longValue() > 0);
        assertTrue(batches.get(0).get("compute_input").get("ns").longValue() > 0);
        assertTrue(batches.get(1).get("compute_output").get("ns").longValue() > 0);
        long inputs = batches.get(0).get("compute_input").get("ns").longValue()
                + batches.get(1).get("compute_input").get("ns").longValue();
        assertEquals(s.get("compute_input").get("ns").longValue(), inputs,
                "sequential requests: each request's input time is its execution's");
    }

    @Test
    void modelStats_listEveryLoadedVersionOfTheModel() {
        JsonNode list = stats("/v2/models/counted/stats").get("model_stats");
        assertEquals(1, list.size());
        assertEquals("counted", list.get(0).get("name").textValue());
    }

    @Test
    void allStats_listEveryLoadedModel_includingIdleOnesWithZeroCounts() {
        JsonNode list = stats("/v2/models/stats").get("model_stats");
        List<String> names = new ArrayList<>();
        list.forEach(m -> names.add(m.get("name").textValue()));
        assertTrue(names.containsAll(List.of("counted", "idle", "stats")), names.toString());
        for (JsonNode m : list) {
            if (m.get("name").textValue().equals("idle")) {
                assertEquals(0, m.get("inference_count").longValue());
                assertEquals(0, m.get("last_inference").longValue());
                assertEquals("[]", m.get("batch_stats").toString());
            }
        }
    }

    @Test
    void stats_agreeWithMetrics() {
        JsonNode m = stats("/v2/models/counted/versions/1/stats").get("model_stats").get(0);
        String metrics = server.get("/metrics").body();
        assertEquals(m.get("inference_stats").get("success").get("count").longValue(),
                (long) metric(metrics, "inference_request_duration_seconds_count", "counted", "outcome=\"success\""));
        assertEquals(m.get("execution_count").longValue(),
                (long) metric(metrics, "inference_compute_duration_seconds_count", "counted", ""));
        assertEquals(m.get("inference_count").longValue(),
                (long) metric(metrics, "inference_batch_size_rows_sum", "counted", ""));
    }

    private static double metric(String text, String name, String model, String tag) {
        Pattern line = Pattern.compile("^" + name + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(text);
        while (m.find()) {
            if (m.group(1).contains("model=\"" + model + "\"") && m.group(1).contains(tag)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + name + " for " + model + " in /metrics");
    }

    @Test
    void stats_ofUnknownModel_is404() {
        HttpResponse<String> r = server.get("/v2/models/nothing/stats");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().contains("unknown model 'nothing'"), r.body());
    }

    @Test
    void stats_ofUnknownVersion_is404() {
        assertEquals(404, server.get("/v2/models/counted/versions/5/stats").statusCode());
    }

    @Test
    void modelNamedStats_isServedByItsOtherRoutes_whileGetV2ModelsStatsIsTheExtension() {
        assertTrue(stats("/v2/models/stats").has("model_stats"));
        HttpResponse<String> metadata = server.get("/v2/models/stats/versions/1");
        assertEquals(200, metadata.statusCode(), metadata.body());
        assertEquals("stats", Bodies.parse(metadata.body()).get("name").textValue());
        assertEquals("stats", config("/v2/models/stats/config").get("name").textValue());
        infer("stats", 1);
        JsonNode own = stats("/v2/models/stats/stats").get("model_stats");
        assertEquals(1, own.size());
        assertEquals("stats", own.get(0).get("name").textValue());
    }

    @Test
    void getV2ModelsConfig_isTheMetadataRouteOfAModelNamedConfig() {
        HttpResponse<String> r = server.get("/v2/models/config");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().contains("unknown model 'config'"), "config is only ever a suffix: " + r.body());
    }

    private static JsonNode config(String path) {
        HttpResponse<String> r = server.get(path);
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }
}
