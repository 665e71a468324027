package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The deployment admin API and unversioned inference of one server, as the deployment tests call them: every
 * call optionally carries a bearer token, and the helpers that cannot sensibly go on after a failure assert
 * the status and name the response body.
 */
final class DeployApi {
    /** Copies of the bundled mlp model load only version 1 at start; the others are loaded through the API. */
    static final String ONLY_VERSION_1 = "{\"max_batch_size\": 64, \"dynamic_batching\": {},"
            + " \"version_policy\": {\"specific\": {\"versions\": [1]}}}";

    private final String base;
    private final HttpClient client;
    private final Optional<String> token;

    DeployApi(String base, HttpClient client, Optional<String> token) {
        this.base = base;
        this.client = client;
        this.token = token;
    }

    static DeployApi of(ServerFixture server) {
        return new DeployApi("http://127.0.0.1:" + server.server().port(), server.client(), Optional.empty());
    }

    static DeployApi of(ServerFixture server, String token) {
        return new DeployApi("http://127.0.0.1:" + server.server().port(), server.client(), Optional.of(token));
    }

    static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** The same server through another client (each load-generating thread gets its own connections). */
    DeployApi withClient(HttpClient other) {
        return new DeployApi(base, other, token);
    }

    HttpResponse<String> get(String path) {
        return send(builder(path).GET());
    }

    HttpResponse<String> post(String path, String json) {
        return send(builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    HttpResponse<String> put(String path, String json) {
        return send(builder(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** GET /admin/v1/models/{m}, which must answer 200. */
    JsonNode model(String model) {
        return ok(get("/admin/v1/models/" + model));
    }

    /** POST .../versions/{v}/load, which must answer 200 with the version READY. */
    JsonNode load(String model, long version) {
        JsonNode n = ok(post("/admin/v1/models/" + model + "/versions/" + version + "/load", "{}"));
        assertEquals("READY", n.path("state").asText(), n.toString());
        return n;
    }

    HttpResponse<String> unload(String model, long version) {
        return post("/admin/v1/models/" + model + "/versions/" + version + "/unload", "{}");
    }

    HttpResponse<String> traffic(String model, String body) {
        return put("/admin/v1/models/" + model + "/traffic", body);
    }

    HttpResponse<String> rollback(String model, String body) {
        return post("/admin/v1/models/" + model + "/rollback", body);
    }

    /** The state of {@code version} in GET /admin/v1/models/{m}, or "absent". */
    String state(String model, long version) {
        for (JsonNode v : model(model).path("versions")) {
            if (v.path("version").asText().equals(Long.toString(version))) {
                return v.path("state").asText();
            }
        }
        return "absent";
    }

    /** An unversioned JSON inference request for mlp copies, with extra headers (e.g. a routing key). */
    HttpResponse<String> infer(String model, String body, Map<String, String> headers) {
        HttpRequest.Builder b = builder("/v2/models/" + model + "/infer").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return send(b);
    }

    /** Unversioned binary-output inference; the raw response. */
    HttpResponse<byte[]> inferBinary(String model, byte[] body, long headerLength) {
        HttpRequest.Builder b = builder("/v2/models/" + model + "/infer")
                .header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", Long.toString(headerLength))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** An mlp request body (one row of 64 features) made from {@code seed}, with optional extra top-level JSON. */
    static String mlpBody(long seed, String extra) {
        return Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, seed), extra);
    }

    /** {"routes":[{"version":v,"weight":w},...]} from pairs v1, w1, v2, w2, ... */
    static String routes(long... versionWeight) {
        StringBuilder sb = new StringBuilder("{\"routes\":[");
        for (int i = 0; i < versionWeight.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"version\":").append(versionWeight[i]).append(",\"weight\":").append(versionWeight[i + 1])
                    .append('}');
        }
        return sb.append("]}").toString();
    }

    /** Weights per version of a policy node {"routes":[{"version":"1","weight":90}]}, in policy order. */
    static Map<Long, Integer> weights(JsonNode policy) {
        Map<Long, Integer> out = new LinkedHashMap<>();
        for (JsonNode r : policy.path("routes")) {
            out.put(Long.parseLong(r.path("version").asText()), r.path("weight").asInt());
        }
        return out;
    }

    static JsonNode ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + r.body());
        return Bodies.parse(r.body());
    }

    private HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
