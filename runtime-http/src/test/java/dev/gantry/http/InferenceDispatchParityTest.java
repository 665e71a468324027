package dev.gantry.http;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.fixtures.MalformedRequests;
import dev.gantry.http.fixtures.MalformedRequests.MalformedRequest;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inference requests a server dispatches without a router (access log off, the default) are answered exactly
 * as those it dispatches through its inference router (access log on): the same status, body and headers for
 * good requests, malformed ones, refusals and paths only the full router takes.
 */
class InferenceDispatchParityTest {
    private static final String ADD = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[1,2,3,4]},{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
    private static final List<String> HEADERS = List.of("content-type", "gantry-model-version", "connection",
            "keep-alive", "vary", "www-authenticate", "retry-after", "access-control-allow-origin");

    static ServerFixture direct;
    static ServerFixture routed;
    static Path accessLog;

    @BeforeAll
    static void start() throws Exception {
        Path data = Path.of("target", "test-data", "dispatch-parity");
        direct = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data.resolve("direct")),
                ExecutorFactory.onnxRuntime());
        Files.createDirectories(data);
        accessLog = data.resolve("access.log").toAbsolutePath();
        Files.deleteIfExists(accessLog);
        ServerConfig logged = ServerFixture.config(ServerFixture.MODELS, data.resolve("routed"));
        routed = ServerFixture.start(logged.withSecurity(logged.security().withAccessLog(accessLog.toString())),
                ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        direct.close();
        routed.close();
    }

    @Test
    void everyMalformedRequest_getsTheSameAnswer_withAndWithoutTheRouter() {
        List<String> differences = new ArrayList<>();
        int refused = 0;
        for (MalformedRequest m : MalformedRequests.corpus()) {
            Map<String, String> headers = new java.util.HashMap<>(m.headers());
            if (m.contentType() != null) {
                headers.put("Content-Type", m.contentType());
            }
            String path = "/v2/models/" + m.model() + "/infer";
            Answer a = Answer.of(direct.post(path, m.body(), headers));
            Answer b = Answer.of(routed.post(path, m.body(), headers));
            if (!a.equals(b)) {
                differences.add(m.description() + ":\n  direct " + a + "\n  routed " + b);
            }
            if (a.status() >= 400 && a.status() < 500) {
                refused++;
            }
        }
        assertEquals(List.of(), differences);
        assertTrue(refused >= 200, "only " + refused + " of the corpus were refused with a 4xx");
    }

    @Test
    void goodRequestsAndRefusals_getTheSameAnswer_withAndWithoutTheRouter() {
        Map<String, String> json = Map.of("Content-Type", "application/json");
        record Case(String path, String body, Map<String, String> headers, int status) {
        }
        List<Case> cases = List.of(
                new Case("/v2/models/add_fp32/infer", ADD, json, 200),
                new Case("/v2/models/add_fp32/versions/1/infer", ADD, json, 200),
                new Case("/v2/models/add_fp32/infer?x=1", ADD, json, 200),
                new Case("/v2/models/add_fp32/versions/99/infer", ADD, json, 404),
                new Case("/v2/models/add_fp32/versions/abc/infer", ADD, json, 400),
                new Case("/v2/models/no_such_model/infer", ADD, json, 404),
                new Case("/v2/models/add_fp32/infer", ADD, Map.of("Content-Type", "text/plain"), 415),
                new Case("/v2/models/add_fp32/infer", ADD,
                        Map.of("Content-Type", "application/json", "Origin", "https://evil.example"), 403),
                // Paths only the full router takes, in both servers (it ignores a trailing slash).
                new Case("/v2/models/add_fp32/infer/", ADD, json, 200),
                new Case("/v2/models/add%5Ffp32/infer", ADD, json, 200),
                new Case("/v2/models/add_fp32/versions/1/../1/infer", ADD, json, 200));
        List<String> differences = new ArrayList<>();
        for (Case c : cases) {
            byte[] body = c.body().getBytes(StandardCharsets.UTF_8);
            Answer a = Answer.of(direct.post(c.path(), body, c.headers()));
            Answer b = Answer.of(routed.post(c.path(), body, c.headers()));
            assertEquals(c.status(), a.status(), () -> c.path() + " " + c.headers() + ": " + a);
            if (!a.equals(b)) {
                differences.add(c.path() + " " + c.headers() + ":\n  direct " + a + "\n  routed " + b);
            }
        }
        assertEquals(List.of(), differences);
    }

    @Test
    void aForeignHostName_isRefusedTheSame_withAndWithoutTheRouter() throws Exception {
        String request = "POST /v2/models/add_fp32/infer HTTP/1.1\r\nHost: rebind.example:8000\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + ADD.length() + "\r\nConnection: close\r\n\r\n"
                + ADD;
        String a = ServerFixture.raw(direct.server().port(), request);
        String b = ServerFixture.raw(routed.server().port(), request);
        assertTrue(a.startsWith("HTTP/1.1 403"), a);
        assertTrue(a.contains("is not a loopback name"), a);
        assertEquals(withoutDate(a), withoutDate(b));
    }

    @Test
    void theRoutedServer_logsItsInferenceRequests() throws Exception {
        routed.post("/v2/models/add_fp32/infer", ADD.getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Type", "application/json"));
        String log = "";
        for (int i = 0; i < 50 && !log.contains("/v2/models/add_fp32/infer"); i++) {
            Thread.sleep(100);
            log = Files.exists(accessLog) ? Files.readString(accessLog) : "";
        }
        assertTrue(log.contains("/v2/models/add_fp32/infer"), log);
    }

    private static String withoutDate(String response) {
        return response.replaceAll("(?im)^date:.*\r\n", "");
    }

    /** What a client sees of an answer: status, body and the headers the handlers set. */
    private record Answer(int status, String body, Map<String, List<String>> headers) {
        static Answer of(HttpResponse<byte[]> r) {
            Map<String, List<String>> headers = new java.util.TreeMap<>();
            for (String name : HEADERS) {
                List<String> values = r.headers().allValues(name);
                if (!values.isEmpty()) {
                    headers.put(name, values);
                }
            }
            return new Answer(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), headers);
        }
    }
}
