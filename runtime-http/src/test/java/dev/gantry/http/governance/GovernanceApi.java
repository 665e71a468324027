package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The catalogue and release API of one server as the governance tests call it: every call names the bearer
 * token it is made with (null for none), and the helpers that cannot sensibly go on after a failure assert the
 * status and show the response body.
 */
final class GovernanceApi {
    /** The bundled classifier's configuration with every version on disk loaded at start. */
    static final String CLASSIFIER_ALL_VERSIONS = "{\"max_batch_size\": 32, \"dynamic_batching\": {},"
            + " \"version_policy\": {\"all\": {}}}";
    /** A complete low-tier card. */
    static final String LOW_CARD = "{\"owner\":\"team-risk\",\"description\":\"scores 16 features into 4 classes\","
            + "\"intended_use\":\"ranking support tickets\",\"risk_tier\":\"low\"}";

    private final String base;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    GovernanceApi(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    static byte[] bundled(String model) {
        try {
            return Files.readAllBytes(Path.of("..", "models", model, "1", "model.onnx"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> get(String token, String path) {
        return send(builder(token, path).GET());
    }

    HttpResponse<String> post(String token, String path, String json) {
        return send(builder(token, path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    HttpResponse<String> patch(String token, String path, String json) {
        return send(builder(token, path).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    HttpResponse<String> put(String token, String path, String json) {
        return send(builder(token, path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** PUT /admin/v1/models/{m}/versions/{v} with the artifact's bytes. */
    HttpResponse<String> upload(String token, String model, long version, byte[] artifact) {
        return send(builder(token, versionPath(model, version)).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(artifact)));
    }

    HttpResponse<String> traffic(String token, String model, String policyJson) {
        return put(token, "/admin/v1/models/" + model + "/traffic", policyJson);
    }

    /** POST .../versions/{v}/{action} with {"reason": reason}. */
    HttpResponse<String> transition(String token, String model, long version, String action, String reason) {
        return post(token, versionPath(model, version) + "/" + action,
                "{\"reason\":" + Bodies.JSON.valueToTree(reason) + "}");
    }

    HttpResponse<String> patchCard(String token, String model, long version, String json) {
        return patch(token, versionPath(model, version) + "/card", json);
    }

    /** The version record, which must be answered 200. */
    JsonNode version(String token, String model, long version) {
        return ok(get(token, versionPath(model, version)));
    }

    /** Polls the version record until its stage is one of {@code stages} (fails after 60 s). */
    JsonNode awaitStage(String token, String model, long version, Set<String> stages) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get(token, versionPath(model, version));
            if (r.statusCode() == 200) {
                last = Bodies.parse(r.body());
                if (stages.contains(last.path("stage").asText())) {
                    return last;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError(model + "/" + version + " never reached " + stages + "; last record: " + last);
    }

    /** Unversioned (version 0) or pinned JSON inference with one classifier row. */
    HttpResponse<String> infer(String token, String model, long version, long seed) {
        String path = version == 0 ? "/v2/models/" + model + "/infer"
                : "/v2/models/" + model + "/versions/" + version + "/infer";
        String body = Bodies.fp32Request("features", new long[] {1, 16}, Bodies.randomFloats(16, seed), null);
        return send(builder(token, path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static String versionPath(String model, long version) {
        return "/admin/v1/models/" + model + "/versions/" + version;
    }

    /** {"routes":[{"version":v,"weight":w},...],"reason":...} from pairs v1, w1, v2, w2, ... */
    static String routes(long... versionWeight) {
        StringBuilder sb = new StringBuilder("{\"routes\":[");
        for (int i = 0; i < versionWeight.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"version\":").append(versionWeight[i]).append(",\"weight\":").append(versionWeight[i + 1])
                    .append('}');
        }
        return sb.append("],\"reason\":\"test\"}").toString();
    }

    static JsonNode ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        return Bodies.parse(r.body());
    }

    /** The {"error": ...} message of a response. */
    static String error(HttpResponse<String> r) {
        return Bodies.parse(r.body()).path("error").asText();
    }

    private HttpRequest.Builder builder(String token, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
