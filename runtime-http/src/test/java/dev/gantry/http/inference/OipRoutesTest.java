package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every Open Inference Protocol route, in its unversioned and its versioned form. */
class OipRoutesTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @AfterAll
    static void eventLoopsWereNeverBlocked() {
        assertEquals(0, server.blockedEventLoops(), "Vert.x reported a blocked event loop");
    }

    @Test
    void serverMetadata_namesGantryAndTheBinaryExtension() {
        HttpResponse<String> r = server.get("/v2");
        assertEquals(200, r.statusCode());
        JsonNode body = Bodies.parse(r.body());
        assertEquals("gantry", body.get("name").asText());
        assertEquals("binary_tensor_data", body.get("extensions").get(0).asText());
    }

    @Test
    void live_and_ready_answer200WithTrue() {
        HttpResponse<String> live = server.get("/v2/health/live");
        assertEquals(200, live.statusCode());
        assertTrue(Bodies.parse(live.body()).get("live").asBoolean());
        HttpResponse<String> ready = server.get("/v2/health/ready");
        assertEquals(200, ready.statusCode());
        assertTrue(Bodies.parse(ready.body()).get("ready").asBoolean());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp", "/v2/models/mlp/versions/1"})
    void modelMetadata_comesFromTheModelFile(String path) {
        HttpResponse<String> r = server.get(path);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = Bodies.parse(r.body());
        assertEquals("mlp", body.get("name").asText());
        assertEquals("1", body.get("versions").get(0).asText());
        assertEquals("onnxruntime_onnx", body.get("platform").asText());
        JsonNode in = body.get("inputs").get(0);
        assertEquals("features", in.get("name").asText());
        assertEquals("FP32", in.get("datatype").asText());
        assertEquals("[-1,64]", in.get("shape").toString());
        assertEquals("[-1,8]", body.get("outputs").get(0).get("shape").toString());
        assertEquals("READY", body.get("state").asText());
        assertTrue(body.get("batching").get("dynamic_batching").asBoolean());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp/ready", "/v2/models/mlp/versions/1/ready"})
    void modelReady_answers200WithTrue(String path) {
        HttpResponse<String> r = server.get(path);
        assertEquals(200, r.statusCode());
        assertTrue(Bodies.parse(r.body()).get("ready").asBoolean());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp/infer", "/v2/models/mlp/versions/1/infer"})
    void infer_json_returnsScoresAndTheServingVersion(String path) {
        float[] x = Bodies.randomFloats(64, 1);
        HttpResponse<String> r = server.postJson(path, Bodies.fp32Request("features", new long[] {1, 64}, x,
                "\"id\":\"req-42\""));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = Bodies.parse(r.body());
        assertEquals("mlp", body.get("model_name").asText());
        assertEquals("1", body.get("model_version").asText());
        assertEquals("req-42", body.get("id").asText());
        JsonNode out = body.get("outputs").get(0);
        assertEquals("scores", out.get("name").asText());
        assertEquals("FP32", out.get("datatype").asText());
        assertEquals("[1,8]", out.get("shape").toString());
        assertEquals(8, out.get("data").size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp/infer", "/v2/models/mlp/versions/1/infer"})
    void infer_binary_givesTheSameScoresAsJson(String path) {
        float[] x = Bodies.randomFloats(2 * 64, 2);
        JsonNode json = Bodies.parse(server.postJson(path, Bodies.fp32Request("features", new long[] {2, 64}, x, null))
                .body());
        float[] expected = Bodies.floats(json.get("outputs").get(0).get("data"));

        long[] headerLen = new long[1];
        byte[] body = Bodies.fp32Binary("features", new long[] {2, 64}, x,
                "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]", headerLen);
        HttpResponse<byte[]> r = server.post(path, body, Map.of("Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Long.toString(headerLen[0])));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int jsonLen = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode header = Bodies.parse(new String(r.body(), 0, jsonLen, StandardCharsets.UTF_8));
        JsonNode out = header.get("outputs").get(0);
        assertEquals(64, out.get("parameters").get("binary_data_size").asInt());
        assertArrayEquals(expected, Bodies.floatsLE(r.body(), jsonLen, 16));
    }

    @Test
    void metrics_exposesPerVersionInferenceMetersInPrometheusText() {
        server.postJson("/v2/models/mlp/infer", Bodies.fp32Request("features", new long[] {1, 64},
                Bodies.randomFloats(64, 3), null));
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        String text = r.body();
        assertTrue(text.contains("inference_request_duration_seconds_count{error=\"none\",model=\"mlp\",outcome=\"success\",version=\"1\"}"), text);
        assertTrue(text.contains("inference_queue_duration_seconds_bucket{model=\"mlp\""), "histogram buckets");
        assertTrue(text.contains("inference_compute_duration_seconds_count{model=\"mlp\""));
        assertTrue(text.contains("inference_batch_size_rows_count{model=\"mlp\""));
        assertTrue(text.contains("inference_queue_pending{model=\"mlp\""));
        assertTrue(text.contains("model_load_duration_seconds_count{model=\"mlp\",outcome=\"success\""));
        assertTrue(text.contains("jvm_memory_used_bytes"));
        assertTrue(text.contains("process_cpu_usage"));
    }
}
