package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.onnx.ElemType;
import dev.gantry.store.onnx.OnnxGraph;
import dev.gantry.store.onnx.OnnxModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Config auto-completion: a model directory without a config gets max_batch_size and dynamic batching from the
 * model itself when every input and output has a dynamic first dimension and the batch-invariance check passes;
 * {@code --strict-model-config} turns it off.
 */
class ConfigAutoCompletionTest {
    @TempDir
    static Path dir;
    static ServerFixture server;
    static ServerFixture strict;

    /** y = x - max(x over the whole tensor): each row depends on the others, so it is not batch-invariant. */
    static byte[] notBatchInvariant() {
        OnnxGraph g = OnnxGraph.builder("centered").input("x", ElemType.FLOAT, -1, 4)
                .node("ReduceMax", List.of("x"), "m")
                .node("Sub", List.of("x", "m"), "y")
                .output("y", ElemType.FLOAT, -1, 4).build();
        return OnnxModel.of(g).toBytes();
    }

    @BeforeAll
    static void start() throws Exception {
        Path models = dir.resolve("models");
        new TempRepository(models).copy("mlp", "auto", 1, null).copy("fixed_shape", "fixed", 1, null)
                .copy("mlp", "configured", 1, "{\"max_batch_size\": 0}");
        Path variant = models.resolve("variant").resolve("1");
        Files.createDirectories(variant);
        Files.write(variant.resolve("model.onnx"), notBatchInvariant());
        server = ServerFixture.start(ServerFixture.config(models, dir.resolve("data")), ExecutorFactory.onnxRuntime());
        strict = ServerFixture.start(ServerFixture.config(models, dir.resolve("data-strict"))
                .withStrictModelConfig(true), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
        strict.close();
    }

    static JsonNode config(ServerFixture s, String model) {
        HttpResponse<String> r = s.get("/v2/models/" + model + "/config");
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }

    @Test
    void modelWithoutConfig_withDynamicFirstDimensions_getsMaxBatchSizeAndDynamicBatching() {
        JsonNode c = config(server, "auto");
        assertEquals(32, c.get("max_batch_size").intValue());
        assertTrue(c.has("dynamic_batching"), c.toString());
        assertEquals("[\"max_batch_size\",\"dynamic_batching\"]", c.get("gantry_autocompleted").toString());
        assertEquals("[64]", c.get("input").get(0).get("dims").toString());
        JsonNode metadata = Bodies.parse(server.get("/v2/models/auto").body());
        assertTrue(metadata.get("batching").get("dynamic_batching").asBoolean());
        assertTrue(metadata.get("notes").toString().contains("auto-completed"), metadata.get("notes").toString());
    }

    @Test
    void autoCompletedModel_refusesMoreRowsThanTheDefaultMaxBatchSize() {
        HttpResponse<String> r = server.postJson("/v2/models/auto/infer", Bodies.fp32Request("features",
                new long[] {33, 64}, new float[33 * 64], null));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("1 to 32 rows"), r.body());
        HttpResponse<String> ok = server.postJson("/v2/models/auto/infer", Bodies.fp32Request("features",
                new long[] {32, 64}, new float[32 * 64], null));
        assertEquals(200, ok.statusCode(), ok.body());
    }

    @Test
    void modelWithoutConfig_withFixedFirstDimension_keepsTritonsDefaults() {
        JsonNode c = config(server, "fixed");
        assertEquals(0, c.get("max_batch_size").intValue());
        assertFalse(c.has("dynamic_batching"));
        assertEquals("[]", c.get("gantry_autocompleted").toString());
    }

    @Test
    void modelWithoutConfig_thatIsNotBatchInvariant_isNotAutoCompleted_andSaysWhy() {
        JsonNode c = config(server, "variant");
        assertEquals(0, c.get("max_batch_size").intValue());
        assertFalse(c.has("dynamic_batching"));
        assertEquals("[]", c.get("gantry_autocompleted").toString());
        JsonNode metadata = Bodies.parse(server.get("/v2/models/variant").body());
        assertEquals("READY", metadata.get("state").textValue());
        assertTrue(metadata.get("notes").toString().contains("configuration not auto-completed"),
                metadata.get("notes").toString());
    }

    @Test
    void modelWithAConfig_isUsedAsWritten() {
        JsonNode c = config(server, "configured");
        assertEquals(0, c.get("max_batch_size").intValue());
        assertEquals("[]", c.get("gantry_autocompleted").toString());
    }

    @Test
    void strictModelConfig_turnsAutoCompletionOff() {
        JsonNode c = config(strict, "auto");
        assertEquals(0, c.get("max_batch_size").intValue());
        assertFalse(c.has("dynamic_batching"));
        assertEquals("[]", c.get("gantry_autocompleted").toString());
        assertEquals("[-1,64]", c.get("input").get(0).get("dims").toString(), "no batch dimension: every dim shows");
    }
}
