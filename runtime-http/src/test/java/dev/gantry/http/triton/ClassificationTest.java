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
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classification extension: {@code parameters.classification} (or {@code class_count}) on a requested
 * output returns its top-k classes as BYTES "score:index[:label]", labels from the config's label_filename.
 */
class ClassificationTest {
    static final String LABELLED = "{\"max_batch_size\": 16, \"dynamic_batching\": {},"
            + " \"output\": [{\"name\": \"output\", \"data_type\": \"TYPE_FP32\", \"dims\": [-1],"
            + " \"label_filename\": \"labels.txt\"}]}";
    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        Path models = dir.resolve("models");
        new TempRepository(models)
                .copy("identity_fp32", "labelled", 1, LABELLED)
                .copy("identity_fp32", "plain", 1, "{\"max_batch_size\": 16}")
                .copy("identity_fp32", "unbatched", 1, "{\"max_batch_size\": 0}")
                .copy("identity_fp32", "missing_labels", 1, LABELLED.replace("labels.txt", "nowhere.txt"))
                .copy("identity_string", "strings", 1, "{\"max_batch_size\": 16}")
                .copy("classifier", "classifier", 1, "{\"max_batch_size\": 32}");
        Files.writeString(models.resolve("labelled").resolve("labels.txt"), "cat\ndog\nbird\nfish\n");
        server = ServerFixture.start(ServerFixture.config(models, dir.resolve("data")), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static final String TWO_ROWS = "{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[2,4],"
            + "\"data\":[0.1,0.9,0.5,0.3, 0.7,0.2,0.8,0.1]}";

    static JsonNode infer(String model, String inputs, String outputs) {
        HttpResponse<String> r = server.postJson("/v2/models/" + model + "/infer",
                "{\"inputs\":[" + inputs + "],\"outputs\":[" + outputs + "]}");
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body()).get("outputs").get(0);
    }

    @Test
    void classification_returnsTopKPerRow_withLabels() {
        JsonNode out = infer("labelled", TWO_ROWS, "{\"name\":\"output\",\"parameters\":{\"classification\":2}}");
        assertEquals("BYTES", out.get("datatype").textValue());
        assertEquals("[2,2]", out.get("shape").toString());
        assertEquals("[\"0.900000:1:dog\",\"0.500000:2:bird\",\"0.800000:2:bird\",\"0.700000:0:cat\"]",
                out.get("data").toString());
    }

    @Test
    void classification_withoutLabels_returnsScoreAndIndex() {
        JsonNode out = infer("plain", TWO_ROWS, "{\"name\":\"output\",\"parameters\":{\"classification\":1}}");
        assertEquals("[2,1]", out.get("shape").toString());
        assertEquals("[\"0.900000:1\",\"0.800000:2\"]", out.get("data").toString());
    }

    @Test
    void classCount_isTheSameParameterUnderItsOlderName() {
        JsonNode out = infer("plain", TWO_ROWS, "{\"name\":\"output\",\"parameters\":{\"class_count\":1}}");
        assertEquals("[\"0.900000:1\",\"0.800000:2\"]", out.get("data").toString());
    }

    @Test
    void classification_largerThanTheClasses_returnsEveryClass() {
        JsonNode out = infer("plain", TWO_ROWS, "{\"name\":\"output\",\"parameters\":{\"classification\":10}}");
        assertEquals("[2,4]", out.get("shape").toString());
    }

    @Test
    void classification_withoutBatchDimension_ranksTheWholeTensor() {
        JsonNode out = infer("unbatched", TWO_ROWS, "{\"name\":\"output\",\"parameters\":{\"classification\":3}}");
        assertEquals("[3]", out.get("shape").toString());
        assertEquals("[\"0.900000:1\",\"0.800000:6\",\"0.700000:4\"]", out.get("data").toString());
    }

    @Test
    void classification_ofTheSampleClassifier_picksTheHighestRawScore() {
        String in = Bodies.fp32Request("features", new long[] {1, 16}, Bodies.randomFloats(16, 3), null);
        JsonNode raw = Bodies.parse(server.postJson("/v2/models/classifier/infer", in).body()).get("outputs").get(0);
        float[] scores = Bodies.floats(raw.get("data"));
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            best = scores[i] > scores[best] ? i : best;
        }
        JsonNode top = infer("classifier", in.substring(in.indexOf('[') + 1, in.lastIndexOf(']')),
                "{\"name\":\"scores\",\"parameters\":{\"classification\":1}}");
        assertEquals(String.format(java.util.Locale.ROOT, "%f:%d", scores[best], best),
                top.get("data").get(0).textValue());
    }

    @Test
    void classification_asBinaryOutput_isLengthPrefixedBytes() {
        String body = "{\"inputs\":[" + TWO_ROWS + "],\"outputs\":[{\"name\":\"output\",\"parameters\":"
                + "{\"classification\":1,\"binary_data\":true}}]}";
        HttpResponse<byte[]> r = server.post("/v2/models/labelled/infer",
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Map.of());
        assertEquals(200, r.statusCode());
        int json = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        String raw = new String(r.body(), json, r.body().length - json, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(raw.contains("0.900000:1:dog") && raw.contains("0.800000:2:bird"), raw);
    }

    @Test
    void classification_zero_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/plain/infer", "{\"inputs\":[" + TWO_ROWS
                + "],\"outputs\":[{\"name\":\"output\",\"parameters\":{\"classification\":0}}]}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("classification' must be a positive integer"), r.body());
    }

    @Test
    void classification_notAnInteger_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/plain/infer", "{\"inputs\":[" + TWO_ROWS
                + "],\"outputs\":[{\"name\":\"output\",\"parameters\":{\"classification\":\"three\"}}]}");
        assertEquals(400, r.statusCode());
    }

    @Test
    void classification_ofABytesOutput_is400() {
        HttpResponse<String> r = server.postJson("/v2/models/strings/infer", "{\"inputs\":[{\"name\":\"input\","
                + "\"datatype\":\"BYTES\",\"shape\":[1,1],\"data\":[\"a\"]}],"
                + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"classification\":1}}]}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("cannot be classified"), r.body());
    }

    @Test
    void missingLabelFile_makesTheVersionUnavailable_namingTheFile() {
        JsonNode metadata = Bodies.parse(server.get("/v2/models/missing_labels").body());
        assertEquals("UNAVAILABLE", metadata.get("state").textValue());
        assertTrue(metadata.get("reason").textValue().contains("label_filename 'nowhere.txt'"), metadata.toString());
    }

    @Test
    void config_namesTheLabelFile() {
        JsonNode c = Bodies.parse(server.get("/v2/models/labelled/config").body());
        assertEquals("labels.txt", c.get("output").get(0).get("label_filename").textValue());
    }
}
