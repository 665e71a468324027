package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /v2/models/{m}[/versions/{v}]/config}: the effective configuration in Triton's JSON form. */
class ModelConfigRouteTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @AfterAll
    static void eventLoopsWereNeverBlocked() {
        assertEquals(0, server.blockedEventLoops(), "Vert.x reported a blocked event loop");
    }

    private static JsonNode config(String path) {
        HttpResponse<String> r = server.get(path);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        return Bodies.parse(r.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp/config", "/v2/models/mlp/versions/1/config"})
    void config_hasTritonsFieldNamesAndTypes(String path) {
        JsonNode c = config(path);
        assertEquals("mlp", c.get("name").textValue());
        assertEquals("onnxruntime_onnx", c.get("platform").textValue());
        assertEquals("onnxruntime", c.get("backend").textValue());
        assertTrue(c.get("max_batch_size").isInt());
        assertEquals(64, c.get("max_batch_size").intValue());
        JsonNode in = c.get("input").get(0);
        assertEquals("features", in.get("name").textValue());
        assertEquals("TYPE_FP32", in.get("data_type").textValue());
        assertEquals("[64]", in.get("dims").toString(), "dims without the batch dimension");
        assertTrue(in.get("dims").get(0).isIntegralNumber(), "dims are JSON numbers");
        JsonNode out = c.get("output").get(0);
        assertEquals("scores", out.get("name").textValue());
        assertEquals("TYPE_FP32", out.get("data_type").textValue());
        assertEquals("[8]", out.get("dims").toString());
        assertEquals("", out.get("label_filename").textValue());
        JsonNode db = c.get("dynamic_batching");
        assertTrue(db.get("max_queue_delay_microseconds").isIntegralNumber());
        assertEquals(0, db.get("max_queue_delay_microseconds").longValue());
        assertTrue(db.get("preferred_batch_size").isArray());
        assertEquals(1024, db.get("default_queue_policy").get("max_queue_size").intValue());
        JsonNode group = c.get("instance_group").get(0);
        assertEquals("KIND_CPU", group.get("kind").textValue());
        assertEquals(1, group.get("count").intValue());
        assertEquals(1, c.get("version_policy").get("latest").get("num_versions").intValue());
        assertTrue(c.get("parameters").isObject());
        assertEquals("model.onnx", c.get("default_model_filename").textValue());
        assertEquals("[]", c.get("gantry_autocompleted").toString(), "mlp has a config.json: nothing filled in");
    }

    @Test
    void config_withoutBatchDimension_keepsEveryDimensionAndHasNoDynamicBatching() {
        JsonNode c = config("/v2/models/fixed_shape/config");
        assertEquals(0, c.get("max_batch_size").intValue());
        JsonNode in = c.get("input").get(0);
        assertFalse(in.get("dims").isEmpty());
        assertTrue(in.get("dims").get(0).longValue() > 0, "the first dimension is a real one: " + in.get("dims"));
        assertFalse(c.has("dynamic_batching"));
    }

    @Test
    void config_ofBytesModel_namesTypeString() {
        JsonNode c = config("/v2/models/identity_string/config");
        assertEquals("TYPE_STRING", c.get("input").get(0).get("data_type").textValue());
        assertEquals("[-1]", c.get("input").get(0).get("dims").toString(), "a dynamic dimension is -1");
    }

    @Test
    void config_showsAllVersionPolicy() {
        JsonNode c = config("/v2/models/classifier/versions/2/config");
        assertTrue(c.get("version_policy").has("all"), c.toString());
        assertEquals(32, c.get("max_batch_size").intValue());
    }

    @Test
    void config_ofUnknownModel_is404() {
        HttpResponse<String> r = server.get("/v2/models/no_such_model/config");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().contains("unknown model 'no_such_model'"), r.body());
    }

    @Test
    void config_ofUnknownVersion_is404() {
        HttpResponse<String> r = server.get("/v2/models/mlp/versions/7/config");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().contains("has no version 7"), r.body());
    }

    @Test
    void serverMetadata_listsEveryExtensionServed() {
        JsonNode body = Bodies.parse(server.get("/v2").body());
        List<String> extensions = Bodies.JSON.convertValue(body.get("extensions"),
                Bodies.JSON.getTypeFactory().constructCollectionType(List.class, String.class));
        assertEquals(List.of("binary_tensor_data", "classification", "model_configuration", "model_repository",
                "statistics", "system_shared_memory"), extensions);
    }
}
