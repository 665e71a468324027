package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls {@code /v1/embeddings} with a plain HTTP client and reads OpenAI's response shape. */
final class Embeddings {
    private Embeddings() {
    }

    static HttpResponse<String> post(ServerFixture server, String json, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/v1/embeddings"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return server.send(b.build());
    }

    static HttpResponse<String> get(ServerFixture server, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return server.send(b.build());
    }

    static String body(String model, Object input) {
        ObjectNode root = Bodies.JSON.createObjectNode();
        root.put("model", model);
        root.set("input", Bodies.JSON.valueToTree(input));
        return root.toString();
    }

    /** The vectors of a 200 response, in index order; float or base64 as the response carries them. */
    static List<float[]> vectors(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode root = Bodies.parse(r.body());
        assertEquals("list", root.get("object").textValue());
        List<float[]> out = new ArrayList<>();
        ArrayNode data = (ArrayNode) root.get("data");
        for (int i = 0; i < data.size(); i++) {
            JsonNode item = data.get(i);
            assertEquals("embedding", item.get("object").textValue());
            assertEquals(i, item.get("index").intValue());
            out.add(vector(item.get("embedding")));
        }
        return out;
    }

    static float[] vector(JsonNode embedding) {
        if (embedding.isTextual()) {
            ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(embedding.textValue()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[b.remaining() / Float.BYTES];
            b.asFloatBuffer().get(v);
            return v;
        }
        float[] v = new float[embedding.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = embedding.get(i).floatValue();
        }
        return v;
    }

    /** Asserts an OpenAI error object with {@code status}, and returns its {@code error} member. */
    static JsonNode error(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode error = Bodies.parse(r.body()).get("error");
        assertTrue(error != null && error.isObject(), "OpenAI error object expected: " + r.body());
        assertTrue(error.get("message").isTextual() && !error.get("message").textValue().isBlank(), r.body());
        assertTrue(error.get("type").isTextual(), r.body());
        assertTrue(error.has("param") && error.has("code"), r.body());
        return error;
    }
}
